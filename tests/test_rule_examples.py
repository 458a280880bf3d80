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
