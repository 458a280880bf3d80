"""CI formats: SARIF 2.1.0 (validated against the official schema), GitHub annotations, Prometheus text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES
from doctor.evidence import CollectorError, Severity, Target
from doctor.findings import Excerpt, Finding, Report
from doctor.report import github, prometheus, sarif

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))
INIT = FIXTURES / "bundles" / "docker-init-failure"
BUNDLES = sorted(p for p in (FIXTURES / "bundles").iterdir() if p.is_dir())


def _validate(log: dict) -> None:  # type: ignore[type-arg]
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)


def _report(name: str = "ml/deployment/scorer", errors: int = 0) -> Report:
    config = Finding("memory-too-low", Severity.WARNING, 'Memory "low", really\\', "cause", "fix it",
                     (Excerpt("config/deployment config.yaml", "memory_gb: 0.5", 7),))
    service = Finding("crash-loop", Severity.CRITICAL, "Crash loop", "restarts", "fix: this, that",
                      (Excerpt("k8s/logs/p/c.log", "boom", 3),), references=("https://example.org/x",))
    return Report(Target("k8s", name), [service, config], [],
                  [CollectorError("logs", "forbidden") for _ in range(errors)])


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_sarif_validates_for_every_bundle(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(bundle), "--format", "sarif")
    assert run.code in (0, 1), run.err
    _validate(json.loads(run.out))


def test_sarif_points_at_score_py_line(cli) -> None:  # type: ignore[no-untyped-def]
    log = json.loads(cli("check", str(INIT), "--format", "sarif").out)
    _validate(log)
    run = log["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["id"] == "init-failure" and rule["defaultConfiguration"]["level"] == "error"
    assert rule["help"]["text"].startswith("Fix: ") and rule["shortDescription"]["text"]
    result = run["results"][0]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "score_init_raise.py", "uriBaseId": "SRCROOT"}
    assert physical["region"]["startLine"] == 9 and result["level"] == "error"


def test_sarif_config_evidence_and_logical_locations() -> None:
    log = json.loads(sarif.render_many([_report(), _report("ml/deployment/other", errors=1)]))
    _validate(log)
    assert len(log["runs"]) == 2
    crash, config = log["runs"][0]["results"]
    assert crash["level"] == "error" and "physicalLocation" not in crash["locations"][0]
    assert crash["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "k8s:ml/deployment/scorer"
    location = config["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "config/deployment%20config.yaml"
    assert location["region"]["startLine"] == 7 and config["level"] == "warning"
    notes = log["runs"][1]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "logs: forbidden"


def test_github_annotations(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(INIT), "--format", "github")
    assert run.code == 1
    first = run.out.splitlines()[0]
    assert re.match(r"^::error file=score_init_raise\.py,line=9,title=mldoctor init-failure%3A .+::\[error\] ", first)
    lines = github.render(_report(errors=1)).splitlines()
    assert lines[0].startswith("::error title=mldoctor crash-loop%3A Crash loop::")
    assert "%0AFix: fix: this, that" in lines[0]  # message keeps ':' and ',' but escapes the newline
    assert lines[1].startswith("::warning file=config/deployment config.yaml,line=7,")
    assert lines[2].startswith("::warning title=mldoctor%3A not collected::logs: forbidden")


def test_prometheus_exposition_and_escaping() -> None:
    text = prometheus.render_many([_report(errors=2), _report("ml/deployment/other")])
    assert text.count("# TYPE mldoctor_findings gauge") == 1
    assert 'mldoctor_findings{rule_id="crash-loop",severity="critical",namespace="ml",target="deployment/scorer"} 1' \
        in text
    assert 'mldoctor_check_status{namespace="ml",target="deployment/other",status="failing"} 2' in text
    assert 'mldoctor_collector_errors{namespace="ml",target="deployment/scorer"} 2' in text
    assert prometheus.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    sample = re.compile(r'^[a-z_]+\{(?:[a-z_]+="(?:[^"\\\n]|\\[\\"n])*",?)*\} \d+$')
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line


def test_prometheus_with_parser_when_available(cli) -> None:  # type: ignore[no-untyped-def]
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client not installed")
    text = cli("check", str(INIT), "--format", "prometheus").out
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    assert families["mldoctor_findings"].samples[0].labels["rule_id"] == "init-failure"
