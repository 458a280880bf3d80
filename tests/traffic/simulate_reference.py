"""The autoscaler replay as it was written first, one Python step per request (a deque and a heap): the reference
`doctor.traffic.simulate.replay` must match exactly (tests/traffic/test_simulate_trials.py). Copied from
doctor/traffic/simulate.py at 918ea37; not used by mldoctor."""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from dataclasses import dataclass, field

from doctor.traffic.simulate import SCALE_DOWN_AFTER_S, MAX_STEPS, Settings

@dataclass
class Run:
    """What one replay predicted."""

    rejected: Counter[int] = field(default_factory=Counter)  # second -> 503s
    replicas: list[tuple[int, int]] = field(default_factory=list)  # (second, ready replicas) at each tick
    peak_replicas: int = 0
    hit_max: bool = False

    @property
    def total_503(self) -> int:
        """Predicted 503s."""
        return sum(self.rejected.values())


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


def _initial_replicas(arrivals: dict[int, int], first: int, service_s: float, settings: Settings) -> int:
    """The steady state before the log: enough replicas for the first minute's mean load, within min/max."""
    rate = sum(arrivals.get(first + i, 0) for i in range(60)) / 60
    need = math.ceil(rate * service_s / (settings.target_utilization / 100) / settings.max_concurrent)
    return max(settings.min_replicas, min(settings.max_replicas, need))


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


def _autoscale(state: _State, now: float, settings: Settings, run: Run) -> None:
    """Once a second: scale up eagerly over the target, down after a minute under it."""
    demand = len(state.busy) + len(state.queue)
    busy_replicas = demand / settings.max_concurrent
    target = settings.target_utilization / 100
    utilization = busy_replicas / state.ready if state.ready else 1.0
    desired = max(settings.min_replicas, min(settings.max_replicas, math.ceil(busy_replicas / target)))
    if utilization > target:
        state.under_since = None
        missing = desired - state.ready - len(state.pending)
        state.pending.extend([now + settings.startup_s] * max(0, missing))
        run.hit_max = run.hit_max or (busy_replicas / target > settings.max_replicas)
    elif utilization < target:
        state.under_since = now if state.under_since is None else state.under_since
        if now - state.under_since >= SCALE_DOWN_AFTER_S and state.ready > desired:
            state.ready, state.under_since = desired, None
    run.peak_replicas = max(run.peak_replicas, state.ready)
    run.replicas.append((int(now), state.ready))


