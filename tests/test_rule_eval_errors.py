"""A rule expression that fails to evaluate is reported (report notes, the check's reason) and fails
`mldoctor rules test`; `--strict` also fails on an expression that reads a field the example lacks."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES

RULE = """id: {id}
title: t
severity: error
cause: c
fix: f
when:
  all:
    - log: {{pattern: 'Booting worker'}}
    - {cond}
examples:
  match:
    - name: booting
      logs: "2026-11-25 15:40:04,920 I [12] gunicorn.error - Booting worker with pid: 12"
      states: [{{container: app, status: running, restart_count: 2}}]
"""


def _rule(tmp_path: Path, rule_id: str, expr: str, cond: str = "state: {{expr: '{}'}}") -> Path:
    path = tmp_path / f"{rule_id}.yaml"
    path.write_text(RULE.format(id=rule_id, cond=cond.format(expr)))
    return path


def test_type_error_is_reported_in_the_check(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = _rule(tmp_path, "typo", 'c.restart_count > "2"')  # int against string: no such overload in CEL
    report = cli("check", str(FIXTURES / "bundles" / "docker-boot-loop"), "--rules", str(rule), "--format", "json").json()
    assert "typo" not in [f["rule_id"] for f in report["findings"]]
    note = next(n for n in report["notes"] if n.startswith("rule typo:"))
    assert 'c.restart_count > "2"' in note and "No such overload" in note
    assert "No such overload" in next(c["reason"] for c in report["checks"] if c["rule_id"] == "typo")


def test_rules_test_fails_on_an_evaluation_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli("rules", "test", str(_rule(tmp_path, "typo", 'c.restart_count > "2"')))
    assert run.code == 1 and "FAIL typo: booting" in run.out and "No such overload" in run.out


def test_a_working_rule_passes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli("rules", "test", "--strict", str(_rule(tmp_path, "fine", "c.restart_count >= 2")))
    assert run.code == 0 and "1 passed, 0 failed" in run.out


def test_strict_fails_on_a_missing_field(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    either = "any: [state: {{expr: '{}'}}, state: {{expr: 'c.restart_count >= 2'}}]"
    rule = _rule(tmp_path, "guess", 'c.env.MODEL_MB == "400"', either)
    assert cli("rules", "test", str(rule)).code == 0  # a field the evidence lacks is normal: false, not an error
    strict = cli("rules", "test", "--strict", str(rule))
    assert strict.code == 1 and "no field" in strict.out and "MODEL_MB" in strict.out
