"""The autoscaler replay as plainly as it can be written, one Python step per request (a deque and a heap), every
twentieth of a second: `doctor.traffic.simulate.replay`, which keeps requests as runs of times and does a second in
one step when its requests all find a free slot, must match it exactly (tests/traffic/test_simulate_trials.py).
The queue and serving are as first written at 918ea37; the stepping is the fixed 1/20 s of 2026-12-02 (the first
version's step grew with the log's span and lost arrivals). Not used by mldoctor."""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

# What the rewrite left as it was (the autoscaler tick, the initial replicas, the result) is the real one.
from doctor.traffic.simulate import Run, Settings, _autoscale, _initial_replicas

STEPS = 20


@dataclass
class _State:
    ready: int
    pending: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)  # heap of finish times
    queue: deque[float] = field(default_factory=deque)
    under_since: float | None = None


def replay(arrivals: dict[int, int], service_s: float, settings: Settings) -> Run:
    """Replay per-second arrival counts through the autoscaler model: 20 steps a second, the autoscaler ticking at
    each second's first. A later step with no arrivals and an empty queue has nothing to do but let requests finish
    and replicas start, which the next step taken does before anything reads them: it is skipped (a log spanning
    hours would take millions of empty steps)."""
    run = Run()
    if not arrivals:
        return run
    first, last = min(arrivals), max(arrivals)
    state = _State(ready=_initial_replicas(arrivals, first, service_s, settings))
    end = last + 1 + settings.max_wait_ms / 1000 + service_s
    second = first
    while second < end:
        count = arrivals.get(second, 0)
        for step in range(STEPS):
            now = second + step * (1 / STEPS)
            # arrival i of the second is at (i + 0.5) / count: those in this step's twentieth of the second
            lo = min(count, max(0, math.ceil(step * (1 / STEPS) * count - 0.5)))
            hi = count if step == STEPS - 1 else min(count, max(0, math.ceil((step + 1) * (1 / STEPS) * count - 0.5)))
            if now >= end or (step and lo == hi and not state.queue):
                continue
            state.queue.extend(second + (i + 0.5) / count for i in range(lo, hi))
            _serve(state, now, service_s, settings, run)
            if step == 0:
                _autoscale(state, now, settings, run)
        second += 1
    return run


def _serve(state: _State, now: float, service_s: float, settings: Settings, run: Run) -> None:
    """Finish what is done, bring up started replicas, start queued requests, reject those that waited too long."""
    while state.busy and state.busy[0] <= now:
        heapq.heappop(state.busy)
    while state.pending and state.pending[0] <= now:
        state.pending.pop(0)
        state.ready += 1
    slots = state.ready * settings.max_concurrent
    wait = settings.max_wait_ms / 1000
    while state.queue:
        if state.queue[0] + wait < now:
            run.rejected[int(state.queue.popleft() + wait)] += 1
        elif len(state.busy) < slots:
            heapq.heappush(state.busy, max(now, state.queue.popleft()) + service_s)
        else:
            break
