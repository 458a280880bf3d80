"""The autoscaler replay's trials that only ask "any 503?" stop at the first one, and answer as a full replay does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from doctor.traffic import simulate as sm

ARRIVALS = st.dictionaries(st.integers(0, 400), st.integers(0, 60), min_size=1, max_size=60)
SETTINGS = st.builds(sm.Settings, st.integers(1, 4), st.integers(1, 6), st.sampled_from([50.0, 70.0, 90.0]),
                     st.integers(1, 3), st.sampled_from([100.0, 500.0, 2000.0]), st.sampled_from([0.0, 5.0, 30.0]))


@hsettings(max_examples=150, deadline=None)
@given(arrivals=ARRIVALS, service=st.sampled_from([0.01, 0.2, 1.0, 3.0]), trial=SETTINGS)
def test_a_trial_that_stops_at_the_first_503_answers_as_the_full_replay(arrivals: dict[int, int], service: float,
                                                                        trial: sm.Settings) -> None:
    full = sm.replay(arrivals, service, trial)
    assert sm.avoids_503(arrivals, service, trial) == (full.total_503 == 0)
    early = sm.replay(arrivals, service, trial, until_503=True)
    if full.total_503:
        assert 0 < early.total_503 <= full.total_503 and len(early.replicas) <= len(full.replicas)


def test_a_failing_trial_stops_early() -> None:
    arrivals = {t: (200 if 5 <= t < 8 else 2) for t in range(600)}
    trial = sm.Settings(min_replicas=1, max_replicas=1)
    full, early = sm.replay(arrivals, 0.5, trial), sm.replay(arrivals, 0.5, trial, until_503=True)
    assert full.total_503 > 0 and early.total_503 > 0
    assert len(early.replicas) < len(full.replicas) / 10  # it stopped in the burst, not at the log's end


BURSTY = st.dictionaries(st.integers(0, 900), st.one_of(st.integers(0, 40), st.integers(500, 5000)),
                         min_size=1, max_size=80)
# a log spanning hours (its first replay's steps grew with the span: see test_a_long_log_is_replayed_whole)
LONG = st.dictionaries(st.integers(0, 20_000), st.one_of(st.integers(1, 40), st.integers(500, 5000)),
                       min_size=2, max_size=40)


# the replay's seconds are epoch seconds (per_second_arrivals): their times round at ~1e-7 s
EPOCH = BURSTY.map(lambda arrivals: {1_764_000_000 + t: n for t, n in arrivals.items()})


@hsettings(max_examples=250, deadline=None)
@given(arrivals=st.one_of(ARRIVALS, BURSTY, LONG, EPOCH), service=st.sampled_from([0.001, 0.05, 0.2, 1.0, 3.0]),
       trial=SETTINGS)
def test_the_replay_equals_its_first_version_step_for_step(arrivals: dict[int, int], service: float,
                                                           trial: sm.Settings) -> None:
    """The replay keeps waiting and running requests as runs of times computed when looked at, and does a second
    whose requests all find a free slot in one step; the plain version (tests/traffic/simulate_reference.py) steps
    through every twentieth of a second, one request at a time, with a deque and a heap."""
    import simulate_reference as reference

    ours, theirs = sm.replay(arrivals, service, trial), reference.replay(arrivals, service, trial)
    assert (ours.rejected, ours.replicas, ours.peak_replicas, ours.hit_max) == (
        theirs.rejected, theirs.replicas, theirs.peak_replicas, theirs.hit_max)


SIX_HOURS = 6 * 3600


def test_a_long_log_is_replayed_whole() -> None:
    """Every request of a log spanning hours is replayed. One replica busy 10 s per request, 1 request a second,
    100 ms of queue: exactly one request in ten is served, the nine others get 503. (The replay's first version
    stepped by span / 30,000 s, lost the arrivals at step borders, and predicted 13,714 of these 19,440.)"""
    run = sm.replay({t: 1 for t in range(SIX_HOURS)}, 10.0, sm.Settings(1, 1, 70.0, 1, 100.0))
    assert run.total_503 == SIX_HOURS * 9 // 10


def test_a_long_log_of_a_service_with_headroom_predicts_no_503() -> None:
    """10 requests a second of 50 ms on one replica keep it half busy: no 503 however long the log. (Steps of
    0.72 s served the queue once per step and "predicted" 112,795 503s over six hours.)"""
    assert sm.replay({t: 10 for t in range(SIX_HOURS)}, 0.05, sm.Settings(1, 1, 70.0, 1, 500.0)).total_503 == 0


def test_a_burst_gives_the_same_503s_after_minutes_or_hours_of_quiet_traffic() -> None:
    """What the replay predicts for a burst does not depend on how many quiet hours the log has before it."""
    def log(quiet: int) -> dict[int, int]:
        arrivals = {t: 1 for t in range(quiet)}
        arrivals.update({quiet + t: 30 for t in range(120)})  # two minutes over what three replicas serve
        arrivals.update({quiet + 120 + t: 1 for t in range(300)})
        return arrivals

    trial = sm.Settings(1, 3, 70.0, 1, 500.0, 30.0)
    after_minutes, after_hours = (sm.replay(log(quiet), 0.2, trial).total_503 for quiet in (900, SIX_HOURS))
    assert after_minutes > 1000
    assert abs(after_hours - after_minutes) <= after_minutes / 100  # float times of later seconds round differently


# (requests a second, request time): one finishes 0.5 or 0.1 ms after the step in which the next arrives starts
@pytest.mark.parametrize(("count", "service"), [(4, 0.2255), (4, 0.2251), (4, 0.225), (4, 0.2249), (10, 0.1005),
                                                (10, 0.1), (10, 0.0995), (5, 0.1502)])
@pytest.mark.parametrize("base", [0, 1_764_000_000])
def test_requests_finishing_just_after_a_step_starts_are_still_in_service_at_it(count: int, service: float,
                                                                                base: int) -> None:
    """A second done in one step (its requests all find a slot) must be one the steps do the same way. With 4
    requests a second (at .125, .375, ...) of 0.2255 s, the first is still in service at the step the second
    arrives in (from .35 s): the second waits a step and, with 20 ms of queue, gets 503. Every other second has
    requests, so nothing is left in service from the second before."""
    import simulate_reference as reference

    arrivals = {base + 2 * t: count for t in range(30)}
    trial = sm.Settings(1, 1, 70.0, 1, 20.0)
    ours, theirs = sm.replay(arrivals, service, trial), reference.replay(arrivals, service, trial)
    assert (ours.rejected, ours.replicas) == (theirs.rejected, theirs.replicas)
