"""The command line as users and CI rely on it: exit codes, formats, clear one-line errors."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import FIXTURES

BOOT = FIXTURES / "bundles" / "docker-boot-loop"
HEALTHY = FIXTURES / "bundles" / "docker-healthy"


def test_boot_loop_json_has_numbers(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(BOOT), "--format", "json")
    assert run.code == 1
    finding = run.json()["findings"][0]
    assert finding["rule_id"] == "worker-boot-loop"
    assert finding["values"]["boot_count"] >= 3
    assert finding["values"]["memory_limit_bytes"] == 167772160
    assert "1.0 GB" in finding["fix"] and "0.16 GB" in finding["fix"]
    assert any("Booting worker with pid" in e["excerpt"] for e in finding["evidence"])


def test_healthy_says_what_was_checked(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(HEALTHY), "--format", "json")
    report = run.json()
    assert run.code == 0 and report["status"] == "healthy" and report["findings"] == []
    assert {c["result"] for c in report["checks"]} <= {"clear", "skipped"}
    assert report["evidence"]["logs"] == 1 and report["evidence"]["containers"] == 1
    console = cli("check", str(HEALTHY), "--no-color")
    assert "HEALTHY" in console.out and "Checked" in console.out


def test_fail_on_and_ignore(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("check", str(BOOT), "--fail-on", "critical").code == 0
    ignored = cli("check", str(BOOT), "--ignore", "worker-boot-loop", "--format", "json").json()
    assert "worker-boot-loop" not in [f["rule_id"] for f in ignored["findings"]]
    assert {"rule_id": "worker-boot-loop", "result": "skipped", "reason": "ignored (--ignore)"} in ignored["checks"]
    # ignoring the diagnosis does not make the failing service healthy: the safety net still reports the failure
    assert ignored["status"] == "failing" and ignored["findings"][0]["rule_id"] == "unexplained-failure"


def test_markdown_and_junit(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = cli("check", str(BOOT), "--format", "markdown").out
    assert "`worker-boot-loop`" in md and "**Fix.**" in md
    out = tmp_path / "report.xml"
    assert cli("check", str(BOOT), "--format", "junit", "--output", str(out)).code == 1
    suite = ET.parse(out).getroot()
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["worker-boot-loop"] and int(suite.get("failures")) == 1


def test_tar_gz_bundle_same_findings(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(BOOT, arcname="bundle")
    a = cli("check", str(archive), "--format", "json").json()["findings"]
    b = cli("check", str(BOOT), "--format", "json").json()["findings"]
    assert [f["rule_id"] for f in a] == [f["rule_id"] for f in b] and a[0]["values"] == b[0]["values"]


def test_missing_bundle_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", "/nonexistent/bundle")
    assert run.code == 2 and "/nonexistent/bundle" in run.err and len(run.err.strip().splitlines()) == 1


def test_bad_json_names_file_and_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(FIXTURES / "k8s" / "oom-killed", tmp_path / "b")
    (tmp_path / "b" / "k8s" / "pods.json").write_text('{"items": [\n  {"metadata": \n')
    run = cli("check", str(tmp_path / "b"))
    assert run.code == 2 and "k8s/pods.json" in run.err and "line" in run.err


def test_truncated_tar_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(BOOT, arcname="bundle")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    run = cli("check", str(archive))
    assert run.code == 2 and "bundle.tar.gz" in run.err


def test_not_a_bundle_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(tmp_path))
    assert run.code == 2 and "not a bundle" in run.err


def test_broken_rule_file_names_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = tmp_path / "bad.yaml"
    rule.write_text("id: my-rule\ntitle: t\nseverity: error\ncause: c\nfix: f\nwhen:\n  log:\n    pattern: 'unclosed('\n")
    run = cli("check", str(BOOT), "--rules", str(rule))
    assert run.code == 2 and f"{rule}:8" in run.err and "regular expression" in run.err
    rule.write_text("id: my-rule\ntitle: t\nseverity: fatal\ncause: c\nfix: f\nwhen: {log: {pattern: x}}\n")
    run = cli("rules", "lint", str(rule))
    assert run.code == 2 and f"{rule}:3" in run.out and "severity" in run.out


def test_report_output_is_atomic(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.json"
    out.write_text("previous")
    assert cli("check", "/nonexistent", "--output", str(out)).code == 2
    assert out.read_text() == "previous" and list(tmp_path.iterdir()) == [out]


def test_unknown_format_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("check", str(BOOT), "--format", "yaml").code == 2


def test_rules_test_fails_naming_the_example(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = tmp_path / "r.yaml"
    rule.write_text(
        "id: my-rule\ntitle: t\nseverity: warning\ncause: c\nfix: f\nwhen: {log: {pattern: 'Model not found'}}\n"
        "examples:\n  match:\n    - name: finds it\n      logs: 'Model not found in cache'\n"
        "  no_match:\n    - name: wrongly quiet\n      logs: 'Model not found here either'\n")
    run = cli("rules", "test", str(rule))
    assert run.code == 1 and "FAIL my-rule: wrongly quiet" in run.out and "1 passed, 1 failed" in run.out
    assert cli("rules", "test").code == 0


def test_replicas_formula(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("replicas", "--rps", "20", "--request-seconds", "10")
    assert run.code == 0 and "replicas = ceil(20 × 10 / 0.7 / 1) = 286" in run.out
    assert "replicas = ceil(20 × 10 / 0.3 / 1) = 667" in cli("replicas", "--rps", "20", "--request-seconds", "10",
                                                             "--target-utilization", "30").out
    assert cli("replicas", "--rps", "0", "--request-seconds", "10").code == 2


def test_rules_schema_and_list(cli) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(cli("rules", "schema").out)
    assert schema["title"] == "mldoctor rule"
    listing = cli("rules", "list").out
    for rule_id in ("worker-boot-loop", "unschedulable", "init-failure", "oom-killed", "crash-loop"):
        assert rule_id in listing


def test_help_does_not_import_clients() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom doctor.cli import main\nmain(['--help'])\n"
            "sys.stderr.write(','.join(m for m in ('docker', 'kubernetes', 'cel', 'rich', 'jinja2') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "check" in run.stdout and run.stderr == ""


def test_many_targets_summary_then_details(capsys) -> None:  # type: ignore[no-untyped-def]
    from doctor.bundle import open_bundle
    from doctor.pipeline import diagnose_and_report

    with open_bundle(BOOT) as a, open_bundle(HEALTHY) as b:
        code = diagnose_and_report([a, b], fmt="console", color=False)
    out = capsys.readouterr().out
    assert code == 1
    table = out[: out.index("Checked")]
    assert "2 targets" in table and table.index("failing") < table.index("healthy")
    assert "worker-boot-loop" in table
    with open_bundle(BOOT) as a, open_bundle(HEALTHY) as b:
        diagnose_and_report([a, b], fmt="json")
    both = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in both["reports"]] == ["failing", "healthy"]


def test_progress_only_on_a_terminal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    from doctor import progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.stderr_progress("x") is None
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    draw = progress.stderr_progress("reading the log of svc")
    assert draw is not None
    draw(512 * 2**20, 1024 * 2**20)
    assert "reading the log of svc: 512 MiB of ~1,024 MiB" in tty.getvalue()
