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


@pytest.mark.parametrize("form", [OPTIONAL, OLD_FORM], ids=["optional", "any-expr-true"])
@pytest.mark.parametrize("log,title", [(FAILED + FRAME, "init failed at line 9"), (FAILED, "init failed")])
def test_optional_binds_when_present_and_never_fails(cli: Any, tmp_path: Path, form: str, log: str, title: str) -> None:
    rule = tmp_path / "r.yaml"
    rule.write_text(RULE % form)
    bundle = tmp_path / "b" / "docker" / "svc"
    bundle.mkdir(parents=True)
    (bundle / "logs.txt").write_text(log)
    report = cli("check", str(tmp_path / "b"), "--rules", str(rule), "--format", "json").json()
    found = next(f for f in report["findings"] if f["rule_id"] == "r")
    assert found["title"] == title


def test_optional_alone_does_not_match_without_the_rest(cli: Any, tmp_path: Path) -> None:
    rule = tmp_path / "r.yaml"
    rule.write_text(RULE % OPTIONAL)
    bundle = tmp_path / "b" / "docker" / "svc"
    bundle.mkdir(parents=True)
    (bundle / "logs.txt").write_text(FRAME)
    report = cli("check", str(tmp_path / "b"), "--rules", str(rule), "--format", "json").json()
    assert "r" not in [f["rule_id"] for f in report["findings"]]
