"""The autoscaler replay's request queue as it was written first, one Python step per request (a deque and a heap):
the reference `doctor.traffic.simulate.replay` must match exactly (tests/traffic/test_simulate_trials.py). Copied from
doctor/traffic/simulate.py at 918ea37; not used by mldoctor."""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

# What the rewrite left as it was (the autoscaler tick, the initial replicas, the result) is the real one.
from doctor.traffic.simulate import MAX_STEPS, Run, Settings, _autoscale, _initial_replicas


@dataclass
class _State:
    ready: int
    pending: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)  # heap of finish times
    queue: deque[float] = field(default_factory=deque)
    under_since: float | None = None


def replay(arrivals: dict[int, int], service_s: float, settings: Settings) -> Run:
    """Replay per-second arrival counts through the autoscaler model."""
    run = Run()
    if not arrivals:
        return run
    first, last = min(arrivals), max(arrivals)
    dt = max(0.05, (last - first + 1) / MAX_STEPS)
    state = _State(ready=_initial_replicas(arrivals, first, service_s, settings))
    steps_per_tick = max(1, round(1 / dt))
    step, now = 0, float(first)
    end = last + 1 + settings.max_wait_ms / 1000 + service_s
    while now < end:
        _arrive(state, arrivals.get(int(now), 0), now, dt)
        _serve(state, now, service_s, settings, run)
        if step % steps_per_tick == 0:
            _autoscale(state, now, settings, run)
        step, now = step + 1, first + (step + 1) * dt
    return run


def _arrive(state: _State, count: int, now: float, dt: float) -> None:
    """The arrivals of this step: a second's count spread evenly over the second."""
    if not count:
        return
    second = int(now)
    offset = now - second
    # arrival i of the second is at (i + 0.5) / count: those in [offset, offset + dt), without looping over all
    first = max(0, math.ceil(offset * count - 0.5))
    stop = min(count, math.ceil((offset + dt) * count - 0.5))
    state.queue.extend(second + (i + 0.5) / count for i in range(first, stop))


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
