"""`rules lint` results are typed (code, severity, where, message), as pySigma's validators are: the CLI prints
`file:line: severity: message [code]`, and a program can read the same issues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from doctor.evidence import Severity
from doctor.rules.lint import PATTERN_CHECKS, LintIssue, lint_paths

RULE = """id: r
title: t
severity: error
cause: c
fix: f
when: {{log: {{pattern: '{pattern}'}}}}
examples:
  match: [{{name: m, logs: "x"}}]
"""


def write(tmp_path: Path, pattern: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(RULE.format(pattern=pattern))
    return path


def test_issues_are_typed(tmp_path: Path) -> None:
    issues = lint_paths([write(tmp_path, r"(?<=pid )\d+")])
    by_code = {i.code: i for i in issues}
    assert by_code["look-around"].severity is Severity.WARNING
    assert by_code["no-no-match-example"].severity is Severity.WARNING
    assert all(isinstance(i, LintIssue) and i.where.startswith(f"{tmp_path / 'r.yaml'}:") for i in issues)


def test_a_file_that_does_not_load_is_one_load_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [\n")
    issue, = lint_paths([path])
    assert (issue.code, issue.severity) == ("load-error", Severity.ERROR) and issue.where.startswith(str(path))


def test_cli_prints_code_and_exits_by_severity(tmp_path: Path, cli: Any) -> None:
    run = cli("rules", "lint", str(write(tmp_path, r"(a+)+")))  # refused at load: it can backtrack for ever
    assert run.code == 2 and ": error: " in run.out and "nests quantifiers" in run.out and "[load-error]" in run.out
    warned = cli("rules", "lint", str(write(tmp_path, r"(?<=pid )\d+")))
    assert warned.code == 0 and "[look-around]" in warned.out


def test_every_check_has_a_code() -> None:
    codes = [c.code for c in PATTERN_CHECKS]
    assert all(codes) and len(codes) == len(set(codes))


def test_several_rules_in_one_file_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    rule = "{id: %s, title: t, severity: error, cause: c, fix: f, when: {log: {pattern: 'Booting worker'}}}"
    path.write_text(f"rules:\n  - {rule % 'r1'}\n  - {rule % 'r2'}\n")
    codes = [i.code for i in lint_paths([path])]
    assert codes.count("several-rules") == 1 and "load-error" not in codes


def test_built_in_rules_are_one_per_file_named_by_id() -> None:
    from doctor.rules.loader import builtin_rules_dir, load_file

    for path in sorted(builtin_rules_dir().glob("*.yaml")):
        rules = load_file(path)
        assert [r.id for r in rules] == [path.stem], path
