"""`optional:` never fails a rule and binds its names when its part holds; the old `any: [X, expr: 'true']` form
means the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

RULE = """id: r
title: "init failed{{ ' at line ' ~ frame.first_groups.line if frame is defined else '' }}"
severity: error
cause: c
fix: f
when:
  all:
    - log: {pattern: "User's init function failed"}
%s
"""
OPTIONAL = """    - optional:
        log: {pattern: 'line (?P<line>\\d+), in init', as: frame}"""
OLD_FORM = """    - any:
        - log: {pattern: 'line (?P<line>\\d+), in init', as: frame}
        - expr: "true\""""
FAILED = "2026-11-25 15:34:47,130 E [18430] azmlinfsrv - User's init function failed\n"
FRAME = '  File "/var/azureml-app/score.py", line 9, in init\n'


def findings(cli: Any, tmp_path: Path, form: str, log: str) -> dict[str, Any]:
    """The findings (by rule id) of the rule with this condition form, on a bundle with this log."""
    rule = tmp_path / "r.yaml"
    rule.write_text(RULE % form)
    bundle = tmp_path / "b" / "docker" / "svc"
    bundle.mkdir(parents=True)
    (bundle / "logs.txt").write_text(log)
    report = cli("check", str(tmp_path / "b"), "--rules", str(rule), "--format", "json").json()
    return {f["rule_id"]: f for f in report["findings"]}


@pytest.mark.parametrize("form", [OPTIONAL, OLD_FORM], ids=["optional", "any-expr-true"])
@pytest.mark.parametrize("log,title", [(FAILED + FRAME, "init failed at line 9"), (FAILED, "init failed")])
def test_optional_binds_when_present_and_never_fails(cli: Any, tmp_path: Path, form: str, log: str, title: str) -> None:
    assert findings(cli, tmp_path, form, log)["r"]["title"] == title


def test_optional_alone_does_not_match_without_the_rest(cli: Any, tmp_path: Path) -> None:
    assert "r" not in findings(cli, tmp_path, OPTIONAL, FRAME)
