"""Status a CI gate can trust: `healthy` only on evidence of the running service, `unknown` + exit 3 on nothing usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from doctor.evidence import Severity, Target
from doctor.findings import Finding, Report
from doctor.report import REPORTERS
from tests.conftest import FIXTURES

REPORT_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "doctor/schemas/report.schema.json").read_text())


def _bundle(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


EMPTY_LIST = '{"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}'


@pytest.mark.parametrize("files", [
    {"config/notes.txt": "the service is down since this morning, please help\n"},
    {"k8s/pods.json": EMPTY_LIST, "k8s/events.json": EMPTY_LIST, "docker/scorer/logs.txt": ""},
], ids=["unrecognised file", "empty lists and an empty log"])
def test_nothing_usable_is_unknown_with_exit_3(cli: Any, tmp_path: Path, files: dict[str, str]) -> None:
    """No finding and nothing about the running service: status unknown, exit 3, the report says where it looked."""
    bundle = _bundle(tmp_path / "b", files)
    run = cli("check", str(bundle), "--format", "json")
    assert run.code == 3
    report = run.json()
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["status"] == "unknown" and not report["findings"]
    (note,) = [n for n in report["notes"] if n.startswith("status unknown")]
    assert "k8s/pods.json" in note and "docker/NAME/inspect.json" in note and "pasted/*" in note


def test_nothing_usable_in_every_format(cli: Any, tmp_path: Path) -> None:
    """Every reporter renders the unknown status (none crashes on it) and the exit code stays 3."""
    bundle = _bundle(tmp_path / "b", {"k8s/pods.json": EMPTY_LIST})
    for fmt in sorted(REPORTERS):
        run = cli("check", str(bundle), "--format", fmt, "--no-color")
        assert run.code == 3, fmt
        assert "unknown" in run.out.lower() or fmt in ("junit", "sarif"), fmt
    console = cli("check", str(bundle), "--no-color").out
    assert "No problem found" not in console and "UNKNOWN" in console


def test_configuration_alone_is_not_healthy(cli: Any, tmp_path: Path) -> None:
    """A clean environment file says how the service is built, not that it works: unknown, not healthy."""
    env = (FIXTURES / "preflight" / "env_ok.yml").read_text()
    bundle = _bundle(tmp_path / "b", {"config/environment.yml": env})
    run = cli("check", str(bundle), "--format", "json")
    report = run.json()
    assert (run.code, report["status"]) == (3, "unknown")
    assert any("read only configuration: config/environment.yml" in n for n in report["notes"])


def test_a_clean_running_service_is_healthy(cli: Any) -> None:
    """The healthy Docker bundle (inspect + a serving log) is healthy, exit 0, with no 'unknown' note."""
    run = cli("check", str(FIXTURES / "bundles" / "docker-healthy"), "--format", "json")
    report = run.json()
    assert (run.code, report["status"]) == (0, "healthy")
    assert not any(n.startswith("status unknown") for n in report["notes"])


def test_a_finding_decides_over_unknown() -> None:
    """Findings set the status even on thin evidence; `unknown` is only for no finding at warning or above."""
    finding = Finding("deploy-failed", Severity.ERROR, "t", "c", "f")
    warn = Finding("autoscaler-limited", Severity.WARNING, "t", "c", "f")
    info = Finding("x", Severity.INFO, "t", "c", "f")
    target = Target("bundle", "b")
    assert Report(target, [finding], [], [], usable=False).status == "failing"
    assert Report(target, [warn], [], [], usable=False).status == "warning"
    assert Report(target, [info], [], [], usable=False).status == "unknown"
    assert Report(target, [info], [], [], usable=True).status == "healthy"


def test_exit_code_unknown_and_fail_on() -> None:
    """Exit 1 wins over 3 (a failing target among unknown ones); 3 over 0."""
    from doctor.commands.check import exit_code

    target = Target("bundle", "b")
    unknown = Report(target, [], [], [], usable=False)
    healthy = Report(target, [], [], [])
    failing = Report(target, [Finding("x", Severity.ERROR, "t", "c", "f")], [], [])
    assert exit_code([healthy], Severity.ERROR) == 0
    assert exit_code([healthy, unknown], Severity.ERROR) == 3
    assert exit_code([unknown, failing], Severity.ERROR) == 1
