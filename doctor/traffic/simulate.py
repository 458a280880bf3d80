"""The guide's autoscaler, replayed over observed arrivals (Azure ML v1 AKS §1.1.7).

Utilization = busy replicas / ready replicas. Above the target the autoscaler adds replicas within
about a second (they serve after a start-up time); below it for about a minute it removes them.
A request that finds no free slot waits up to `max_request_wait_time`, then gets 503.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from doctor.traffic.stats import bursts

SCALE_DOWN_AFTER_S = 60.0
DEFAULT_STARTUP_S = 30.0
DEFAULT_SERVICE_S = 1.0
SERVICE_PERCENTILE = "p95"
STEPS_PER_SECOND = 20  # the replay's step is 1/20 s, however long the log (a second whose requests all find a
# free slot at once is replayed in one step: `replay`)
DT = 1 / STEPS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Settings:
    """The scaling settings a run uses."""

    min_replicas: int = 1
    max_replicas: int = 1
    target_utilization: float = 70.0  # percent
    max_concurrent: int = 1
    max_wait_ms: float = 500.0
    startup_s: float = DEFAULT_STARTUP_S


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


class _Runs:
    """Times in nondecreasing order, taken from the front, kept as runs rather than one float per request: the
    arrivals of one second, `second + (i + 0.5) / count` for i in [lo, hi), maybe each plus the service time (when
    those requests finish), or one time repeated. An item is computed when it is looked at, with the expression a
    list of them would have held, so the replay sees the very floats it saw when it kept lists (the reference test,
    tests/traffic/test_simulate_trials.py, compares them step for step); its cost per step grows with the runs
    touched, not with the requests (a busy log's 503 replay took seconds per million requests)."""

    __slots__ = ("runs", "size")

    def __init__(self) -> None:
        # [second, count, lo, hi, plus]: arrivals (plus None) or their finish times (plus the service time);
        # [time, None, lo, hi, None]: `time`, hi - lo times
        self.runs: deque[list[Any]] = deque()
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def arrivals(self, second: int, count: int, lo: int, hi: int, plus: float | None = None) -> None:
        if lo < hi:
            self.runs.append([second, count, lo, hi, plus])
            self.size += hi - lo

    def repeated(self, time: float, times: int) -> None:
        if times > 0:
            self.runs.append([time, None, 0, times, None])
            self.size += times

    def through(self, limit: float) -> int:
        """How many times are <= limit (none taken away)."""
        count = 0
        for run in self.runs:
            here = _leading(run, run[2], lambda t: t <= limit)
            count += here
            if here < run[3] - run[2]:
                break
        return count

    def first(self) -> float:
        run = self.runs[0]
        return _item(run, run[2])

    def drop_through(self, limit: float) -> None:
        """Take away every time <= limit."""
        while self.runs:
            run = self.runs[0]
            if not self._drop(run, _leading(run, run[2], lambda t: t <= limit)):
                return

    def reject(self, now: float, wait: float, rejected: Counter[int]) -> None:
        """Take away the times that waited too long (t + wait < now), counting each in the second it gave up."""
        while self.runs:
            run = self.runs[0]
            lo, stop = run[2], run[2] + _leading(run, run[2], lambda t: t + wait < now)
            while lo < stop:  # one second of giving up at a time
                second = int(_item(run, lo) + wait)
                end = min(stop, lo + max(1, _leading(run, lo, lambda t: int(t + wait) == second)))
                rejected[second] += end - lo
                lo = end
            if not self._drop(run, stop - run[2]):
                return

    def take(self, count: int) -> list[list[Any]]:
        """The first `count` times (fewer when there are fewer), as runs."""
        out: list[list[Any]] = []
        while count > 0 and self.runs:
            run = self.runs[0]
            part = min(count, run[3] - run[2])
            out.append([run[0], run[1], run[2], run[2] + part, run[4]])
            count -= part
            self._drop(run, part)
        return out

    def _drop(self, run: list[Any], items: int) -> bool:
        """Take the first `items` of the front run; whether it is gone."""
        self.size -= items
        run[2] += items
        if run[2] < run[3]:
            return False
        self.runs.popleft()
        return True


def _item(run: list[Any], i: int) -> float:
    """The run's i-th time, computed as the list it stands for computed it."""
    if run[1] is None:
        return run[0]  # type: ignore[no-any-return]
    time = run[0] + (i + 0.5) / run[1]
    return time if run[4] is None else time + run[4]  # type: ignore[no-any-return]


def _leading(run: list[Any], lo: int, holds: Callable[[float], bool]) -> int:
    """How many of the run's times from index `lo` on satisfy `holds`, which holds of a prefix (the times are in
    order), found by bisection."""
    low, high = lo, run[3]
    while low < high:
        middle = (low + high) // 2
        if holds(_item(run, middle)):
            low = middle + 1
        else:
            high = middle
    return low - lo


@dataclass
class _State:
    ready: int
    pending: list[float] = field(default_factory=list)
    # finish times: every request takes service_s and starts in arrival order, so they come in order (a FIFO)
    busy: _Runs = field(default_factory=_Runs)
    queue: _Runs = field(default_factory=_Runs)  # arrival times waiting for a slot
    under_since: float | None = None


def replay(arrivals: dict[int, int], service_s: float, settings: Settings, until_503: bool = False) -> Run:
    """Replay per-second arrival counts through the autoscaler model in steps of 1/20 s, the autoscaler ticking at
    each second's first step; `until_503`: stop at the first predicted 503 (for a trial that only asks whether there
    is one: its cost grows with the requests it replays).

    Each step takes the arrivals of its twentieth of the second (`_slice`). Steps that change nothing are not taken:
    - a step with no arrivals and an empty queue (requests finishing and replicas starting are caught up by the
      next step taken, before anything reads them);
    - the rest of a second whose arrivals all start as they come: after its first step the queue is empty and, at
      every step, the requests in service from before plus the most of this second's in service then fit in the
      slots (`_all_fit`). A log of hours then costs a step or two per quiet second.
    Before, the step grew with the log's span (span / 30,000 s): arrivals at step borders were lost and a step of
    seconds served the queue once per step; a day-long log replayed 18 % of its requests."""
    run = Run()
    if not arrivals:
        return run
    first, last = min(arrivals), max(arrivals)
    state = _State(ready=_initial_replicas(arrivals, first, service_s, settings))
    end = last + 1 + settings.max_wait_ms / 1000 + service_s
    second = first
    shapes: dict[int, tuple[list[int], list[int]]] = {}  # arrivals in a second -> `_shape`
    while second < end:
        count = arrivals.get(second, 0)
        shape = shapes.get(count)
        if shape is None:
            shape = shapes[count] = _shape(count, service_s)
        bounds = shape[0]
        for step in range(STEPS_PER_SECOND):
            now = second + step * DT
            lo, hi = bounds[step], bounds[step + 1]
            if now >= end:
                break
            if step and lo == hi and not state.queue:
                if lo == count:
                    break  # nothing more comes this second
                continue
            state.queue.arrivals(second, count, lo, hi)
            _serve(state, now, service_s, settings, run)
            if step == 0:
                _autoscale(state, now, settings, run)
            if until_503 and run.rejected:
                return run
            if step == 0 and not state.queue and hi < count and _all_fit(state, second, count, hi, shape[1], settings):
                state.busy.arrivals(second, count, hi, count, service_s)  # each starts as it arrives
                break
        second += 1
    return run


def _all_fit(state: _State, second: int, count: int, hi: int, in_service: list[int], settings: Settings) -> bool:
    """Whether the second's arrivals from `hi` on would each find a free slot at its step: at each step, the requests
    in service from before plus the most of this second's in service then (`_shape`; those before `hi` are counted
    twice, which only errs towards stepping) fit in the slots (which can only grow until the next tick)."""
    slots = state.ready * settings.max_concurrent
    before = len(state.busy)  # at most: some finish during the second
    if before + in_service[-1] <= slots:
        return True
    for step in range(STEPS_PER_SECOND):
        if before + in_service[step] > slots:
            before = len(state.busy) - state.busy.through(second + step * DT)
            if before + in_service[step] > slots:
                return False
    return True


def _shape(count: int, service_s: float) -> tuple[list[int], list[int]]:
    """For a second of `count` arrivals: the first arrival of each step (`_slice`, 21 bounds), and at each step the
    most of them in service, each started as it arrives and taken away at the first step at or after it finishes
    (one within a tenth of a millisecond of finishing counts as in service: the replay's times are epoch seconds,
    whose floats round at ~1e-7 s), then the most of all."""
    bounds = [_slice(count, step) for step in range(STEPS_PER_SECOND + 1)]
    in_service = []
    for step in range(STEPS_PER_SECOND):
        done = max(0, math.floor((step * DT - 1e-4 - service_s) * count - 0.5) + 1)  # (i + 0.5) / count + s <= now
        in_service.append(max(0, bounds[step + 1] - min(done, count)))
    return bounds, in_service + [max(in_service)]


def _slice(count: int, step: int) -> int:
    """The first of a second's `count` arrivals (arrival i at (i + 0.5) / count) at or after the step's start."""
    if step >= STEPS_PER_SECOND:
        return count
    return min(count, max(0, math.ceil(step * DT * count - 0.5)))


def avoids_503(arrivals: dict[int, int], service_s: float, settings: Settings) -> bool:
    """Whether the replay predicts no 503 at all."""
    return replay(arrivals, service_s, settings, until_503=True).total_503 == 0


def _initial_replicas(arrivals: dict[int, int], first: int, service_s: float, settings: Settings) -> int:
    """The steady state before the log: enough replicas for the first minute's mean load, within min/max."""
    rate = sum(arrivals.get(first + i, 0) for i in range(60)) / 60
    need = math.ceil(rate * service_s / (settings.target_utilization / 100) / settings.max_concurrent)
    return max(settings.min_replicas, min(settings.max_replicas, need))


def _serve(state: _State, now: float, service_s: float, settings: Settings, run: Run) -> None:
    """Finish what is done, bring up started replicas, start queued requests, reject those that waited too long."""
    state.busy.drop_through(now)
    while state.pending and state.pending[0] <= now:
        state.pending.pop(0)
        state.ready += 1
    slots = state.ready * settings.max_concurrent
    wait = settings.max_wait_ms / 1000
    queue = state.queue
    if queue and queue.first() + wait < now:  # waited too long (a prefix: the queue is in order)
        queue.reject(now, wait, run.rejected)
    free = slots - len(state.busy)
    if free > 0 and queue:
        started = queue.take(free)
        # those that arrived by now start now, the others when they arrive (a prefix: in order)
        waited = [_leading(part, part[2], lambda t: t <= now) for part in started]
        state.busy.repeated(now + service_s, sum(waited))
        for part, already in zip(started, waited):
            state.busy.arrivals(part[0], part[1], part[2] + already, part[3], service_s)


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


def smallest_min_replicas(arrivals: dict[int, int], service_s: float, settings: Settings) -> int | None:
    """The fewest minimum replicas (max raised to match) with no predicted 503; None beyond a sane bound."""
    peak = max(arrivals.values(), default=0)
    upper = max(settings.min_replicas, math.ceil(peak * service_s / settings.max_concurrent / 0.1) + 1)

    def clean(count: int) -> bool:
        trial = replace(settings, min_replicas=count, max_replicas=max(settings.max_replicas, count))
        return avoids_503(arrivals, service_s, trial)

    if not clean(upper):
        return None
    low, high = settings.min_replicas, upper
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if clean(middle) else (middle + 1, high)
    return low


def highest_target_utilization(arrivals: dict[int, int], service_s: float, settings: Settings) -> float | None:
    """The highest target utilization (percent, steps of 5) that avoids every 503 with the current replicas. With
    as many replicas at most as at least, the target changes nothing: every trial would replay the same, so only
    the first is."""
    percents = range(int(settings.target_utilization) // 5 * 5, 9, -5)
    if settings.max_replicas <= settings.min_replicas:
        percents = percents[:1]
    for percent in percents:
        trial = replace(settings, target_utilization=float(percent))
        if avoids_503(arrivals, service_s, trial):
            return float(percent)
    return None


def settings_from(config: dict[str, Any], startup_s: float = DEFAULT_STARTUP_S) -> Settings:
    """Settings out of `doctor.traffic.scaling_config(...)`."""
    return Settings(int(config.get("min_replicas", 1)), int(config.get("max_replicas", 1)),
                    float(config.get("target_utilization", 70)), int(config.get("max_concurrent", 1)),
                    float(config.get("max_wait_ms", 500)), startup_s)


def service_seconds(stats: dict[str, Any]) -> tuple[float, str]:
    """The request time to replay with: p95 of successful requests, else a stated default."""
    value = (stats.get("service_ms") or {}).get(SERVICE_PERCENTILE) or 0
    if value > 0:
        return round(value / 1000, 4), f"{SERVICE_PERCENTILE} of successful requests"
    return DEFAULT_SERVICE_S, "assumed (no latency in the logs)"


WINDOW_BEFORE_S, WINDOW_AFTER_S = 900, 300


def around_bursts(arrivals: dict[int, int], bursts: list[dict[str, Any]]) -> dict[int, int]:
    """The arrivals from 15 minutes before the first 503 burst to 5 minutes after the last, when the log is
    longer: the autoscaler's state at a burst depends on the minutes before it, not on hours before."""
    from doctor.convert import parse_time

    times = [t.timestamp() for b in bursts for t in (parse_time(b.get("start")), parse_time(b.get("end"))) if t]
    if not times or max(arrivals) - min(arrivals) <= WINDOW_BEFORE_S + WINDOW_AFTER_S:
        return arrivals
    low, high = min(times) - WINDOW_BEFORE_S, max(times) + WINDOW_AFTER_S
    return {t: n for t, n in arrivals.items() if low <= t <= high} or arrivals


def simulate_stats(stats: dict[str, Any], config: dict[str, Any], run: bool = True,
                   startup_s: float = DEFAULT_STARTUP_S, arrivals: dict[int, int] | None = None) -> dict[str, Any]:
    """The replay under the current settings and the smallest settings that avoid its 503s, as plain values."""
    settings = settings_from(config, startup_s)
    service, basis = service_seconds(stats)
    current = {"min_replicas": settings.min_replicas, "max_replicas": settings.max_replicas,
               "target_utilization": settings.target_utilization, "max_concurrent": settings.max_concurrent,
               "max_wait_ms": settings.max_wait_ms, "startup_s": startup_s}
    empty = {"ran": False, "predicted_503": 0, "predicted_bursts": [], "current": current, "service_s": service,
             "service_basis": basis, "recommended": {}, "peak_replicas": 0, "hit_max": False}
    arrivals = dict(arrivals) if arrivals else per_second_arrivals(stats)
    if not run or not arrivals:
        return empty
    arrivals = around_bursts(arrivals, stats.get("bursts_503") or [])
    result = replay(arrivals, service, settings)
    out = {**empty, "ran": True, "predicted_503": result.total_503, "peak_replicas": result.peak_replicas,
           "hit_max": result.hit_max, "predicted_bursts": _windows(result.rejected, arrivals),
           "capacity": _capacity_series(result, stats)}
    if result.total_503:
        out["recommended"] = _recommend(arrivals, service, settings)
    return out


def _recommend(arrivals: dict[int, int], service: float, settings: Settings) -> dict[str, Any]:
    minimum = smallest_min_replicas(arrivals, service, settings)
    rec: dict[str, Any] = {"min_replicas": minimum, "max_replicas": max(settings.max_replicas, minimum or 0) or None,
                           "target_utilization": highest_target_utilization(arrivals, service, settings)}
    if minimum is not None:
        trial = replace(settings, min_replicas=minimum, max_replicas=max(settings.max_replicas, minimum))
        rec["predicted_503"] = replay(arrivals, service, trial).total_503
    return rec


def _windows(rejected: Counter[int], arrivals: dict[int, int]) -> list[dict[str, Any]]:
    return [{k: v for k, v in b.items()} for b in bursts(rejected, Counter(arrivals))]


def per_second_arrivals(stats: dict[str, Any]) -> dict[int, int]:
    """Per-second arrival counts rebuilt from the statistics' series (exact when its step is 1 s)."""
    series = stats.get("series") or {}
    start, step = series.get("start_s"), series.get("step_s", 1)
    if start is None:
        return {}
    out: dict[int, int] = {}
    for index, rate in enumerate(series.get("rps", [])):
        for second in range(step):
            out[start + index * step + second] = round(rate)
    return {k: v for k, v in out.items() if v}


def _capacity_series(result: Run, stats: dict[str, Any]) -> list[list[int]]:
    """Ready replicas over time (second, replicas), thinned to at most 240 points, for charts."""
    step = max(1, len(result.replicas) // 240)
    return [list(p) for p in result.replicas[::step]]


def simulation_evidence(paths: list[Any], startup_s: float, now: Any = None) -> Any:
    """Evidence of kind `simulate`: the access logs, with the replay switched on (configs are added by the caller)."""
    from doctor.evidence import Evidence, LogSource, Target

    evidence = Evidence(Target("simulate", ", ".join(str(p) for p in paths)), now=now, predicted=True)
    for path in paths:
        evidence.logs.append(LogSource.from_path(str(path), path.stem, path, kind="access"))
    evidence.notes.append(f"startup_s={startup_s:g}")
    evidence.notes.append("simulate: findings are predictions of the autoscaler model over the observed arrivals")
    return evidence
