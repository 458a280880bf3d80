"""The real-case corpus (fixtures/corpus/, taken from public threads, each with its source): the one promise is
checked on every case, and what the baseline records as right stays right. The score line is printed at the end
of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

import score

CASES = score.cases()
BASELINE = score.load_baseline()
RESULTS: list[score.Result] = []


def test_corpus_is_there() -> None:
    """The corpus is the measure of accuracy: at least 40 real failures and 5 healthy-but-noisy controls, and at
    least 20 cases whose look-alike cause is the trap."""
    expected = [score.expected_of(c) for c in CASES]
    assert len([e for e in expected if e.get("failing", True)]) >= 40
    assert len([e for e in expected if not e.get("failing", True)]) >= 5
    assert len([e for e in expected if e.get("trap") and e.get("not_first")]) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path) -> None:
    """A failing case is never healthy nor exit 0; a healthy control has nothing at warning or above;
    what the baseline records as right is still right."""
    assert (case / "source.md").is_file(), f"{case.name}: every case cites its source in source.md"
    result = score.judge(case)
    RESULTS.append(result)
    assert result.exit_code != 2, f"{case.name}: mldoctor refused the case as bad input (exit 2)"
    if result.failing:
        assert not result.reported_healthy, f"{case.name}: a failing case reported healthy: {result.line}"
    else:
        assert not result.noisy_control, f"{case.name}: a healthy control got a finding: {result.line}"
    was = BASELINE.get(case.name, {})
    if was.get("id"):
        assert result.id_right, f"{case.name}: regression, the first finding's id was right: {result.line}"
    if was.get("facts"):
        assert result.facts_right, f"{case.name}: regression, the key facts were stated: {result.line}"


def test_baseline_names_real_cases() -> None:
    """A baseline entry for a case that is gone would hide nothing: it must be removed with the case."""
    names = {c.name for c in CASES}
    assert set(BASELINE) <= names, sorted(set(BASELINE) - names)
