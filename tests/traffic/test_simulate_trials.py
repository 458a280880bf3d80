"""The autoscaler replay's trials that only ask "any 503?" stop at the first one, and answer as a full replay does."""

from __future__ import annotations

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
# a log spanning hours: steps longer than 1/20 s, so one step's arrivals (a run) span more of their second
LONG = st.dictionaries(st.integers(0, 90_000), st.one_of(st.integers(1, 40), st.integers(500, 5000)),
                       min_size=2, max_size=40)


@hsettings(max_examples=200, deadline=None)
@given(arrivals=st.one_of(ARRIVALS, BURSTY, LONG), service=st.sampled_from([0.001, 0.05, 0.2, 1.0, 3.0]),
       trial=SETTINGS)
def test_the_replay_equals_its_first_version_step_for_step(arrivals: dict[int, int], service: float,
                                                           trial: sm.Settings) -> None:
    """The replay keeps waiting and running requests as runs of times computed when looked at; its first version
    (tests/traffic/simulate_reference.py) stepped through them one request at a time with a deque and a heap."""
    import simulate_reference as reference

    ours, theirs = sm.replay(arrivals, service, trial), reference.replay(arrivals, service, trial)
    assert (ours.rejected, ours.replicas, ours.peak_replicas, ours.hit_max) == (
        theirs.rejected, theirs.replicas, theirs.peak_replicas, theirs.hit_max)
