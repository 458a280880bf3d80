"""Causal order and what was ruled out: the first finding is the root cause, its consequences follow it and name
it (`consequence_of`), and each finding lists the look-alikes it excluded, in every report format."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import jsonschema
import pytest

from doctor.findings import Finding, RuledOut, order_findings
from doctor.evidence import Severity
from doctor.report import REPORTERS
from doctor.rules.engine import diagnose
from doctor.rules.examples import example_evidence
from doctor.rules.loader import load_file
from doctor.rules.model import Example, RuleSet

ROOT = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = json.loads((ROOT / "doctor/schemas/report.schema.json").read_text())

# Three small rules over one log: a boot loop (the root), a probe failing because of it (a higher-priority rule
# that would otherwise come first), and a generic restart rule the root suppresses.
RULES = """
rules:
  - id: t-root
    title: The worker keeps being killed
    severity: error
    priority: 10
    suppresses: [t-generic]
    cause: killed
    fix: give it memory
    when: {log: {pattern: 'Booting worker', min_count: 2, as: boots}}
    ruled_out:
      - rule_id: t-timeout
        when: {not: {log: {pattern: 'WORKER TIMEOUT'}}}
        why: "no WORKER TIMEOUT before the {{ boots.count }} boots"
      - rule_id: t-probe
        why: "the probe fails only after the worker dies"
  - id: t-probe
    title: The readiness probe fails
    severity: error
    priority: 25
    consequence_of: [t-generic, t-root]
    cause: not ready
    fix: wait
    when: {log: {pattern: 'Readiness probe failed'}}
  - id: t-generic
    title: It restarts
    severity: error
    cause: restarts
    fix: look
    when: {log: {pattern: 'Booting worker'}}
  - id: t-timeout
    title: timeout
    severity: error
    cause: slow
    fix: faster
    when: {log: {pattern: 'WORKER TIMEOUT'}}
"""
LOG = """2026-11-25 15:40:01,105 I [9] gunicorn.error - Booting worker with pid: 9
2026-11-25 15:40:04,920 I [12] gunicorn.error - Booting worker with pid: 12
Readiness probe failed: HTTP probe failed with statuscode: 503
"""


@pytest.fixture()
def report(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    rules = RuleSet({r.id: r for r in load_file(path)})
    return diagnose(example_evidence(Example("t", {"logs": LOG}, True)), rules)


def test_the_root_cause_comes_first_and_its_consequence_names_it(report) -> None:  # type: ignore[no-untyped-def]
    ids = [f.rule_id for f in report.findings]
    assert ids == ["t-root", "t-probe"]  # t-probe has the higher priority, but it follows from t-root
    assert report.findings[0].consequence_of is None
    # t-generic (listed first) was suppressed by t-root, which stands for it
    assert report.findings[1].consequence_of == "t-root"


def test_ruled_out_lists_the_lookalikes_whose_evidence_is_absent(report) -> None:  # type: ignore[no-untyped-def]
    root = report.findings[0]
    assert root.ruled_out == (RuledOut("t-timeout", "no WORKER TIMEOUT before the 2 boots"),)  # t-probe is a finding


def test_a_lookalike_whose_evidence_is_there_is_not_ruled_out(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    rules = RuleSet({r.id: r for r in load_file(path)})
    report = diagnose(example_evidence(Example("t", {"logs": LOG + "[1] [CRITICAL] WORKER TIMEOUT (pid:9)\n"}, True)), rules)
    root = next(f for f in report.findings if f.rule_id == "t-root")
    assert [r.rule_id for r in root.ruled_out] == []


@pytest.mark.parametrize("fmt,needles", [
    ("json", ['"consequence_of": "t-root"', '"rule_id": "t-timeout"', "no WORKER TIMEOUT before the 2 boots"]),
    ("sarif", ['"consequence_of": "t-root"', "Consequence of: t-root", "Ruled out: t-timeout"]),
    ("markdown", ["_Consequence of `t-root` above._", "**Ruled out**", "- `t-timeout`: no WORKER TIMEOUT"]),
    ("html", ['Consequence of <a href="#r1-t-root"><code>t-root</code></a>', '<ul class="ruled-out">', "no WORKER TIMEOUT"]),
    ("console", ["↳ ERROR t-probe (consequence of t-root): The readiness probe fails", "Ruled out", "no WORKER TIMEOUT"]),
])
def test_every_format_shows_the_consequence_and_what_was_ruled_out(report, fmt: str, needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    text = REPORTERS[fmt](report)
    for needle in needles:
        assert needle in text, f"{fmt}: {needle!r} missing"
    if fmt == "json":
        jsonschema.validate(json.loads(text)["findings"], REPORT_SCHEMA["properties"]["findings"])
    if fmt in ("markdown", "html", "console"):
        assert text.index("t-root") < text.index("t-probe")


def _finding(rule_id: str, severity: Severity, priority: int = 0, root: str | None = None) -> Finding:
    return Finding(rule_id, severity, rule_id, "c", "f", priority=priority, consequence_of=root)


def test_a_root_takes_the_place_of_its_most_severe_consequence() -> None:
    found = order_findings([_finding("other-error", Severity.ERROR, 50), _finding("root-warning", Severity.WARNING),
                            _finding("probe", Severity.CRITICAL, root="root-warning")])
    assert [f.rule_id for f in found] == ["root-warning", "probe", "other-error"]


def test_a_cycle_of_consequences_keeps_every_finding() -> None:
    found = order_findings([_finding("a", Severity.ERROR, root="b"), _finding("b", Severity.ERROR, root="a")])
    assert sorted(f.rule_id for f in found) == ["a", "b"]


def test_a_tgi_shard_that_died_of_gpu_memory_follows_that_finding() -> None:
    """TGI's `Shard 1 failed to start` after a CUDA out-of-memory error while it loaded the weights (a real case,
    verbatim in the corpus): the OOM is the root cause, the shard failure its consequence, named and after it."""
    from doctor.cli import main

    case = ROOT / "fixtures/corpus/k-tgi-k8s-llama-3-70b-bf16-on-two-44gib-gpus-cuda-oom-loading-weights"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        main(["check", str(case), "--format", "json", "--output", str(out)])
        findings = json.loads(out.read_text())["findings"]
    ids = [f["rule_id"] for f in findings]
    assert ids[0] == "gpu-oom" and findings[0]["consequence_of"] is None
    shard = findings[ids.index("shard-failure")]
    assert shard["consequence_of"] == "gpu-oom"
