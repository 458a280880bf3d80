"""A large log's traffic is counted in a forked child while the rule scan runs: the same statistics as counted
in the process, the child's failure never loses them, and the count's own errors still reach the caller."""

from __future__ import annotations

import os
import random

import pytest

from doctor import traffic
from doctor.evidence import Evidence, LogSource, Target
from doctor.traffic import TrafficStage, compute

from test_vector import _lines


def evidence_of(data: bytes) -> Evidence:
    evidence = Evidence(Target("bundle", "t"))
    evidence.logs.append(LogSource.from_bytes("t.log", "app", data))
    return evidence


@pytest.fixture(scope="module")
def log() -> bytes:
    rnd = random.Random(7)
    return "".join(_lines(rnd, 40_000, 0.02)).encode()


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(traffic, "CHILD_BYTES", 1 << 20)
    monkeypatch.delenv(traffic.CHILD_ENV, raising=False)


def test_child_counts_what_the_process_counts(log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(log) > 1 << 20
    expected = compute(evidence_of(log))
    evidence = evidence_of(log)
    stage = TrafficStage(evidence)
    assert stage.forked
    monkeypatch.setattr(traffic, "compute", lambda *a, **k: pytest.fail("counted again in the parent"))
    counted = stage.stats()
    assert counted is not None and counted["requests"] > 1000
    assert counted == expected
    assert stage.stats() == counted  # read once, kept


def test_small_logs_and_the_switch_stay_in_process(log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not TrafficStage(evidence_of(log[:100_000])).forked
    monkeypatch.setenv(traffic.CHILD_ENV, "0")
    stage = TrafficStage(evidence_of(log))
    assert not stage.forked and stage.stats() == compute(evidence_of(log))


def test_a_child_that_dies_is_counted_again_here(log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = traffic.stats_for

    def killed_in_child(evidence: Evidence, mapped: bool = False) -> object:
        if os.getpid() != parent:
            os._exit(9)  # the OOM killer, say
        return real(evidence, mapped)

    monkeypatch.setattr(traffic, "stats_for", killed_in_child)
    stage = TrafficStage(evidence_of(log))
    assert stage.forked and stage.stats() == compute(evidence_of(log))


def test_the_counts_own_error_reaches_the_caller(log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(evidence: Evidence, fast: bool = True, mapped: bool = False) -> object:
        raise ValueError("a bug in the count")

    monkeypatch.setattr(traffic, "compute", broken)
    stage = TrafficStage(evidence_of(log))
    with pytest.raises(ValueError, match="a bug in the count"):
        stage.stats()


def test_the_counting_child_yields_the_cores_to_the_scan(log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count's result is wanted only when the scan has ended: its child runs CHILD_NICE lower than the check,
    whose own priority is untouched."""
    real = traffic.stats_for
    parent, before = os.getpid(), os.nice(0)

    def noting(evidence: Evidence, mapped: bool = False) -> object:
        if os.getpid() != parent:
            raise ValueError(f"niceness {os.nice(0)}")  # the parent reads this back
        return real(evidence, mapped)

    monkeypatch.setattr(traffic, "stats_for", noting)
    stage = TrafficStage(evidence_of(log))
    assert stage.forked
    with pytest.raises(ValueError) as raised:
        stage.stats()
    assert str(raised.value) == f"niceness {min(before + traffic.CHILD_NICE, 19)}"
    assert os.nice(0) == before
    streamed = evidence_of(log)  # a live log still streaming in: counted after the scan, at the check's priority
    streamed.pending = object()  # type: ignore[assignment]
    late = TrafficStage(streamed)
    assert not late.forked
    streamed.pending = None
    with pytest.raises(ValueError) as raised:
        late.stats()
    assert str(raised.value) == f"niceness {before}"
