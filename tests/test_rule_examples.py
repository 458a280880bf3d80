"""Every built-in rule's inline examples hold (the same check `mldoctor rules test` runs)."""

from __future__ import annotations

import pytest

from doctor.rules.examples import run_example
from doctor.rules.loader import load_rules

RULES = load_rules([])
CASES = [(rule, ex) for rule in RULES for ex in rule.examples]


@pytest.mark.parametrize("rule,example", CASES, ids=[f"{r.id}:{e.name}" for r, e in CASES])
def test_example(rule, example) -> None:  # type: ignore[no-untyped-def]
    result = run_example(rule, example)
    assert result.passed, f"{result.where}: {result.detail}"


def test_every_rule_has_matching_and_non_matching_examples() -> None:
    for rule in RULES:
        assert any(e.should_match for e in rule.examples), rule.id
        assert any(not e.should_match for e in rule.examples), rule.id
