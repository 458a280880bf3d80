"""Traffic statistics in bounded memory: per-second counters, a latency histogram, 503 bursts."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from doctor.convert import format_time
from doctor.traffic.parse import LineParser, Request

BURST_GAP_S = 60  # 503 seconds closer than this belong to one burst
MIN_BURST_503 = 3  # a single 503 (or two) is not a burst
MAX_EXCERPTS = 5
SERIES_POINTS = 240
BUCKET = math.log(1.02)  # latency histogram: 2 % wide buckets, so percentiles are within 2 %


def add_counts(mine: Counter[Any], theirs: Mapping[Any, int]) -> None:
    """`mine.update(theirs)` (each count added, new keys after the others in their order) without a Python step per
    key: a block's counts per second are mostly seconds `mine` has not seen, and `Counter.update` added them one at a
    time (a tenth of the traffic pass of a gunicorn log, bench/README.md). Only the keys both hold are added here.
    (`doctor._native.add_counts` takes its place where the extension was built: the keys both hold were still
    0.1 s a GB of `mixed`, the latency buckets of every block.)"""
    both = {key: mine[key] + theirs[key] for key in theirs.keys() & mine.keys()} if mine else None
    dict.update(mine, theirs)
    if both:
        dict.update(mine, both)


reference_add_counts = add_counts
try:
    from doctor._native import add_counts  # type: ignore[no-redef]  # noqa: F811 (the same function in C)
except ImportError:  # no C compiler where mldoctor was installed
    pass


@dataclass
class Accumulator:
    """Everything the statistics need, fed one request at a time."""

    timeout_ms: float = 60000.0
    requests: int = 0
    status: Counter[int] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)
    per_second_503: Counter[int] = field(default_factory=Counter)
    latency_buckets: Counter[int] = field(default_factory=Counter)
    latency_max: float = 0.0
    latency_count: int = 0
    latency_ok: Counter[int] = field(default_factory=Counter)  # successful requests only: the service time
    slow: int = 0
    client_errors: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    sources: list[str] = field(default_factory=list)
    excerpts: list[list[str]] = field(default_factory=list)
    excerpt_codes: set[int] = field(default_factory=set)
    excerpt_order: list[int] = field(default_factory=list)  # the status of each excerpt
    max_excerpts: int = MAX_EXCERPTS  # a later stretch counted on its own keeps one per status (`merge_excerpts`)

    def add(self, request: Request, source: str, line: bytes) -> None:
        """Count one scoring request."""
        self.requests += 1
        self.status[request.status] += 1
        if request.client_error:
            self.client_errors[request.client_error] += 1
        if request.time is not None:
            second = int(request.time)
            self.per_second[second] += 1
            if request.status == 503:
                self.per_second_503[second] += 1
        if request.latency_ms is not None:
            self._latency(request)
        self._excerpt(request, source, line)

    def _latency(self, request: Request) -> None:
        value = max(request.latency_ms or 0.0, 0.001)
        self.add_counts(bucket_of(value), value >= self.timeout_ms, request.status, 1)
        self.latency_max = max(self.latency_max, value)

    def add_counts(self, bucket: int, slow: bool, status: int, count: int) -> None:
        """Count `count` latencies of one histogram bucket and status (the maximum is the caller's)."""
        self.latency_buckets[bucket] += count
        if 200 <= status < 400:
            self.latency_ok[bucket] += count
        self.latency_count += count
        if slow:
            self.slow += count

    def merge(self, other: "Accumulator") -> None:
        """Add the counts of `other` (a later stretch of the same log); excerpts are not merged."""
        self.requests += other.requests
        for mine, theirs in ((self.status, other.status), (self.per_second, other.per_second),
                             (self.per_second_503, other.per_second_503), (self.latency_buckets, other.latency_buckets),
                             (self.latency_ok, other.latency_ok)):
            add_counts(mine, theirs)
        add_counts(self.client_errors, other.client_errors)
        self.latency_max = max(self.latency_max, other.latency_max)
        self.latency_count += other.latency_count
        self.slow += other.slow
        self.malformed += other.malformed

    def _excerpt(self, request: Request, source: str, line: bytes) -> None:
        if request.status < 400 and request.status != 0:
            return
        self.excerpt(request.status, source, line)

    def excerpt(self, status: int, source: str, line: bytes) -> None:
        """Keep `line` as the excerpt of a failing status, if it is the first of that status and there is room:
        the first line of each failing status is representative, and bounded."""
        if self._room_for(status):
            self._keep(status, [source, line.decode("utf-8", "replace").strip()[:400]])

    def _room_for(self, status: int) -> bool:
        return len(self.excerpts) < self.max_excerpts and status not in self.excerpt_codes

    def _keep(self, status: int, excerpt: list[str]) -> None:
        self.excerpt_codes.add(status)
        self.excerpt_order.append(status)
        self.excerpts.append(excerpt)

    def missing_excerpts(self, statuses: Iterable[int]) -> list[int]:
        """The failing statuses among `statuses` (a later stretch's) that would still take an excerpt here."""
        return [code for code in statuses if (code >= 400 or code == 0) and self._room_for(code)]

    def merge_excerpts(self, later: "Accumulator") -> None:
        """The excerpts a count in order would have kept after this stretch, from those of a later stretch
        counted on its own (which kept the first line of every failing status: `max_excerpts` unbounded)."""
        for status, excerpt in zip(later.excerpt_order, later.excerpts):
            if self._room_for(status):
                self._keep(status, excerpt)


def bucket_of(value: float) -> int:
    """The latency histogram bucket of a (positive) value in ms."""
    return round(math.log(value) / BUCKET)


def percentile(buckets: Counter[int], fraction: float) -> float:
    """The value below which `fraction` of the histogram lies (bucket midpoint, in ms)."""
    total = sum(buckets.values())
    if not total:
        return 0.0
    rank, seen = fraction * total, 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return round(math.exp(bucket * BUCKET), 3)
    return round(math.exp(max(buckets) * BUCKET), 3)


STEADY_AFTER_S = 300


def bursts(per_second_503: Counter[int], per_second: Counter[int]) -> list[dict[str, Any]]:
    """Runs of seconds with 503s (gaps under BURST_GAP_S merged) well above the 503 rate outside the run."""
    runs: list[list[int]] = []
    for second in sorted(per_second_503):
        if runs and second - runs[-1][-1] <= BURST_GAP_S:
            runs[-1].append(second)
        else:
            runs.append([second])
    span = max(per_second) - min(per_second) + 1 if per_second else 0
    total = sum(per_second_503.values())
    found = []
    for run in runs:
        count = sum(per_second_503[s] for s in run)
        width = run[-1] - run[0] + 1
        baseline = (total - count) / (span - width) if span > width else 0.0
        # 503s spread over many minutes at the log's overall rate are a steady error rate, not a burst
        steady = width > STEADY_AFTER_S and span > 0 and count / width <= 2 * total / span
        if count >= MIN_BURST_503 and count > 3 * baseline * width and not steady:
            found.append({"start": _iso(run[0]), "end": _iso(run[-1]), "count": count,
                          "peak_per_second": max(per_second_503[s] for s in run),
                          "start_s": run[0], "end_s": run[-1]})
    return sorted(found, key=lambda b: -int(b["count"]))


def finish(acc: Accumulator) -> dict[str, Any]:
    """The statistics dict of the contract (see doctor.traffic)."""
    status = {str(k): v for k, v in sorted(acc.status.items())}
    classes = _classes(acc.status)
    found = bursts(acc.per_second_503, acc.per_second)
    first, last = (min(acc.per_second), max(acc.per_second)) if acc.per_second else (None, None)
    peak_second, peak = max(acc.per_second.items(), key=lambda kv: (kv[1], -kv[0]), default=(None, 0))
    duration = (last - first + 1) if first is not None and last is not None else 0
    return {
        "requests": acc.requests, "status": status, "status_class": classes,
        "errors_5xx": classes.get("5xx", 0), **{f"count_{c}": acc.status.get(c, 0) for c in (503, 504, 502, 500, 429, 408)},
        "first_time": _iso(first), "last_time": _iso(last), "duration_s": duration,
        "peak_rps": peak, "peak_rps_time": _iso(peak_second), "mean_rps": round(sum(acc.per_second.values()) / duration, 3) if duration else 0,
        "peak_503_per_second": max(acc.per_second_503.values(), default=0),
        "bursts_503": found, "burst_count": len(found), "has_latency": acc.latency_count > 0,
        "latency_ms": {name: min(percentile(acc.latency_buckets, q), round(acc.latency_max, 3))
                       for name, q in (("p50", .5), ("p95", .95), ("p99", .99))}
        | {"max": round(acc.latency_max, 3)},
        "service_ms": {name: percentile(acc.latency_ok, q) for name, q in (("p50", .5), ("p95", .95))},
        "slow_requests": acc.slow, "timeout_ms": acc.timeout_ms,
        "client_errors": dict(acc.client_errors), "client_timeouts": acc.client_errors.get("timeout", 0),
        "malformed_lines": acc.malformed, "sources": list(acc.sources), "excerpts": acc.excerpts[:MAX_EXCERPTS],
        "series": series(acc.per_second, acc.per_second_503),
    }


def _classes(status: Counter[int]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for code, count in status.items():
        out[f"{code // 100}xx" if code else "client_error"] += count
    return dict(out)


def series(per_second: Counter[int], per_second_503: Counter[int], points: int = SERIES_POINTS) -> dict[str, Any]:
    """Requests and 503s per second, averaged into at most `points` buckets, for charts."""
    if not per_second:
        return {"start": "", "step_s": 1, "rps": [], "rps_503": []}
    first, last = min(per_second), max(per_second)
    step = max(1, math.ceil((last - first + 1) / points))
    size = (last - first) // step + 1
    rps, bad = [0.0] * size, [0.0] * size
    for second, count in per_second.items():
        rps[(second - first) // step] += count / step
    for second, count in per_second_503.items():
        bad[(second - first) // step] += count / step
    return {"start": _iso(first), "start_s": first, "step_s": step, "rps": [round(v, 3) for v in rps],
            "rps_503": [round(v, 3) for v in bad]}


def _iso(second: int | None) -> str:
    if second is None:
        return ""
    return format_time(datetime.fromtimestamp(second, timezone.utc)) or ""


class Counting(Protocol):
    """What a block pass (doctor.traffic.native, doctor.traffic.vector) uses of the pass it serves
    (doctor.traffic.fast.FastPass)."""

    acc: Accumulator
    parser: LineParser
    source: str  # the log's name, as excerpts name it
    clock: Any  # the block pass's own cache of parsed minutes

    def count_lines(self, texts: Iterable[bytes], tmp: Accumulator, twins_possible: bool,
                    marked: bool = False) -> None:
        """Lines no fast shape took, read by the reference parser; raises Ordered where order matters."""

    def check_excerpts(self, tmp: Accumulator) -> None:
        """Raises Ordered when a failing status of `tmp` has no excerpt yet."""
