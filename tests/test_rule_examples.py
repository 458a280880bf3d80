"""Every built-in rule's inline examples hold (the same check `mldoctor rules test --strict` runs), and every
rule the README promises ships."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

from doctor.rules.examples import run_example
from doctor.rules.loader import load_rules

RULES = load_rules([])
CASES = [(rule, ex) for rule in RULES for ex in rule.examples]


@pytest.mark.parametrize("rule,example", CASES, ids=[f"{r.id}:{e.name}" for r, e in CASES])
def test_example(rule, example) -> None:  # type: ignore[no-untyped-def]
    result = run_example(rule, example, strict=True)
    assert result.passed, f"{result.where}: {result.detail}"


def test_every_rule_has_matching_and_non_matching_examples() -> None:
    for rule in RULES:
        assert any(e.should_match for e in rule.examples), rule.id
        assert any(not e.should_match for e in rule.examples), rule.id


def test_every_promised_rule_ships() -> None:
    """The README's "What it diagnoses" names each symptom's rule: deleting a rule file fails here."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("**What it diagnoses:**", 1)[1].split("\n\n", 1)[0]
    promised = set(re.findall(r"`([a-z0-9-]+)`", section))
    assert len(promised) >= 18, promised
    assert promised - set(RULES.rules) == set()


def test_an_example_expectation_that_checks_nothing_fails() -> None:
    """A misspelt `expect` key (`fix_contain`) fails its example instead of checking nothing; `*_excludes` hold."""
    from types import SimpleNamespace

    from doctor.rules.examples import _expectations

    finding = SimpleNamespace(values={}, fix="set WORKER_TIMEOUT", cause="the worker timed out", title="t", ruled_out=[])
    assert _expectations({"fix_contain": ["x"]}, finding) == [
        "unknown expectation 'fix_contain' (known: cause_contains, cause_excludes, fix_contains, fix_excludes, "
        "not_ruled_out, ruled_out, title_contains, title_excludes, values)"]
    assert _expectations({"fix_excludes": ["WORKER_TIMEOUT"]}, finding)
    assert _expectations({"cause_excludes": ["memory"], "fix_contains": ["WORKER_TIMEOUT"]}, finding) == []


@pytest.mark.parametrize("name", ["deploy/cli_error.txt", "../mldoctor-example-escape.txt", "a/../../b/c.txt"])
def test_an_example_config_text_is_read_under_any_name(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An inline config given as text is read as a file of that name would be, whatever the name holds: a folder
    (`deploy/...`, which crashed `rules test`), or `..` (a rule pack's example must not write outside anything)."""
    import dataclasses
    import tempfile
    from pathlib import Path

    rule = RULES.rules["deploy-failed"]
    example = next(e for e in rule.examples if any(c.get("name") == "cli_error.txt" for c in e.data.get("configs", [])))
    configs = [{**c, "name": name} if c.get("name") == "cli_error.txt" else c for c in example.data["configs"]]
    escaped = Path(tempfile.gettempdir()) / "mldoctor-example-escape.txt"
    result = run_example(rule, dataclasses.replace(example, data={**example.data, "configs": configs}), strict=True)
    assert result.passed, f"{result.where}: {result.detail}"
    assert not escaped.exists()
