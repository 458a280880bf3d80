"""Traffic evidence: requests read from access logs (gunicorn, Azure ML inference server, nginx).

`stats_for(evidence)` is what rules see as `t`: request counts by status and class, requests per
second, latency percentiles, 503 bursts against the baseline, and (when the configuration says how
the service scales) an autoscaler replay of the observed arrivals. Logs are streamed once.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from typing import Any, Callable, Iterable, Iterator

from doctor.evidence import Evidence, LogSource
from doctor.logs import iter_chunks
from doctor.traffic import split
from doctor.traffic.parse import LineParser, Request, is_health
from doctor.traffic.stats import Accumulator, finish

__all__ = ["TrafficStage", "compute", "iter_requests", "scaling_config", "stats_for", "timeout_ms", "traffic_stage"]


class TrafficStage:
    """Traffic statistics, the stage between collection and the rules. Logs of `CHILD_BYTES` or more are counted in
    forked children (one of `split.SPLIT_BYTES` or more in two halves), so the count and the rule scan use both
    cores; smaller ones on first use. A live log still streaming in is counted once it is whole (the rule scan
    follows it meanwhile): a thread counting beside the scan held the count's tables in the scan's process (1 GB
    mixed live log: peak RSS 110 MiB, 87 MiB this way, the same wall time). Rules (`t`) and the report's charts
    read the same result."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self._job: Future[Any] | None = None  # a child counting the whole evidence
        self._halves: tuple[LogSource, int, float, Future[Any], Future[Any]] | None = None  # or a log's two halves
        self._started = False
        self._start(CHILD_NICE)

    @property
    def forked(self) -> bool:
        """Whether children are counting (their result not read yet)."""
        return self._job is not None or self._halves is not None

    def _start(self, nice: int = 0) -> None:
        """Children counting the log beside the rule scan (at `nice`: CHILD_NICE), or after it (a log that was
        streaming in), when it is whole and large enough."""
        from doctor.follow import in_child

        evidence = self.evidence
        if evidence.pending is not None:
            return  # streaming in: started by `stats`, after the scan settled the evidence
        self._started = True
        sources = traffic_sources(evidence)
        if "traffic" in evidence.cache or _size(sources) < CHILD_BYTES or os.environ.get(CHILD_ENV) == "0":
            return
        middle = split.middle(sources[0]) if len(sources) == 1 and _size(sources) >= split.SPLIT_BYTES else None
        if middle is not None:
            source, ms = sources[0], float(timeout_ms(evidence))
            self._halves = (source, middle, ms,
                            in_child(lambda: split.count_range(source, 0, middle, ms, False, mapped=True),
                                     "the traffic count", nice),
                            in_child(lambda: split.count_range(source, middle, source.size or 0, ms, True,
                                                               mapped=True), "the traffic count", nice))
        else:  # a child: it may read through a mapping (`FastPass.feed_stream`)
            self._job = in_child(lambda: stats_for(evidence, mapped=True), "the traffic count", nice)

    def meanwhile(self, work: "Callable[[dict[str, Any] | None], Iterable[Callable[[], Any]]]") -> None:
        """While the second of a log's two counting children still counts, the steps `work` makes from the first's
        statistics (a half's: a preview of the whole's), one at a time; none once both are done. The core the
        first child leaves is idle until the count is whole (the halves ended up to 0.13 s apart on 1 GB of BentoML
        lines); what the check does last, on one core, can be done there (`doctor.rules.engine.diagnose`)."""
        if self._halves is None:
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        children = self._halves[3:]
        done, counting = wait(children, return_when=FIRST_COMPLETED)
        if not counting:
            return
        try:
            half = next(iter(done)).result()
            preview = finish(half.acc) if half.acc.requests else None
        except Exception:  # noqa: BLE001 - a child that died or failed: `stats` reports it
            return
        for step in work(preview):
            if all(child.done() for child in counting):
                return
            step()

    def stats(self) -> dict[str, Any] | None:
        """The statistics (None without requests); counted again when the log they were counted on was replaced
        by its kept tail (it outgrew the size cap while streaming: the rule scan marks it `traffic_stale`). What a
        child that died (killed, out of memory) did not count is counted here; an exception a child's count raised
        is raised here, as a count in this process would raise it."""
        if not self._started:  # the scan has ended: the count is all the check waits for, at its own priority
            self._start()
        if self._halves is not None:
            (source, middle, ms, first, second), self._halves = self._halves, None
            halves = [None if h is _DIED else h for h in (_child_result(first), _child_result(second))]
            acc = split.joined(source, middle, halves[0], halves[1], ms)
            if acc is not None:
                self.evidence.cache["traffic"] = _finished(acc, self.evidence)
        if self._job is not None:
            job, self._job = self._job, None
            counted = _child_result(job)
            if counted is not _DIED:
                self.evidence.cache["traffic"] = counted
        if self.evidence.cache.pop("traffic_stale", False):
            self.evidence.cache.pop("traffic", None)
        return stats_for(self.evidence) if traffic_sources(self.evidence) else None


_DIED = object()  # what `_child_result` gives for a child that ended without a result


def _child_result(job: "Future[Any]") -> Any:
    """What a child counted; _DIED when it died (its exception, if the count raised one, is raised here)."""
    from doctor.follow import ChildDied

    try:
        return job.result()
    except ChildDied:
        return _DIED


# the count's result is wanted when the rule scan has ended, and the scan's own work waits on this process: the
# counting children take the cores the scan leaves idle instead of sharing them (4 processes on 2 cores left the
# check's process a share of one, and the cores half idle once the count was done; bench/README.md)
CHILD_NICE = 10
CHILD_BYTES = 16 << 20  # below this the fork and the pickled result cost more than the other core saves
CHILD_ENV = "MLDOCTOR_TRAFFIC_CHILD"  # 0: count in this process (profiling, and a way out)


def _size(sources: list[LogSource]) -> int:
    return sum(s.size or 0 for s in sources)


def traffic_stage(evidence: Evidence) -> TrafficStage:
    """Start the traffic stage of one evidence (see TrafficStage)."""
    return TrafficStage(evidence)


def traffic_sources(evidence: Evidence) -> list[LogSource]:
    """Access logs when there are any (they already hold every request), else the container logs."""
    access = [s for s in evidence.logs if s.kind == "access"]
    return access or [s for s in evidence.logs if s.kind == "container"]


def iter_requests(source: LogSource, parser: LineParser) -> Iterator[tuple[Request, bytes]]:
    """Scoring requests (health probes left out) of one source, with their lines."""
    with source.open() as stream:
        for block in iter_chunks(stream):
            for line in block.splitlines():
                request = parser.feed(line)
                if request is not None and not is_health(request):
                    yield request, line


def stats_for(evidence: Evidence, mapped: bool = False) -> dict[str, Any] | None:
    """The traffic statistics (contract in the module docstring of doctor.traffic.stats); None without requests.

    Computed once per evidence (rules and the report's chart share it). `mapped`: see `compute`."""
    if "traffic" not in evidence.cache:
        # MLDOCTOR_TRAFFIC_REFERENCE=1: the line-by-line pass (benchmarks, and a way out should the fast one misread)
        evidence.cache["traffic"] = compute(evidence, fast=not os.environ.get("MLDOCTOR_TRAFFIC_REFERENCE"),
                                            mapped=mapped)
    return evidence.cache["traffic"]  # type: ignore[no-any-return]


def compute(evidence: Evidence, fast: bool = True, mapped: bool = False) -> dict[str, Any] | None:
    """The statistics, uncached: block at a time (`fast`) or line by line (the reference the fast pass must match).
    `mapped`: regular files are read through a mapping (a forked child's count only: `FastPass.feed_stream`)."""
    acc = Accumulator(timeout_ms=float(timeout_ms(evidence)))
    for source in traffic_sources(evidence):
        parser = LineParser(strict=source.kind == "access")
        before = acc.requests
        if fast:
            _count_fast(source, parser, acc, mapped)
        else:
            for request, line in iter_requests(source, parser):
                acc.add(request, source.name, line)
        acc.malformed += parser.malformed
        if acc.requests > before:
            acc.sources.append(source.name)
    return _finished(acc, evidence)


def _finished(acc: Accumulator, evidence: Evidence) -> dict[str, Any] | None:
    """The statistics of a whole count; None without requests."""
    if not acc.requests:
        return None
    stats = finish(acc)
    stats["simulation"] = _simulation(stats, evidence, acc)
    return stats


def _count_fast(source: LogSource, parser: LineParser, acc: Accumulator, mapped: bool = False) -> None:
    from doctor.traffic.fast import FastPass

    counter = FastPass(acc, parser, source.name)
    with source.open() as stream:
        counter.feed_stream(stream, mapped=mapped)


def _simulation(stats: dict[str, Any], evidence: Evidence, acc: Accumulator) -> dict[str, Any]:
    from doctor.traffic.simulate import simulate_stats

    run = bool(stats["bursts_503"]) or evidence.target.kind == "simulate"
    startup = float(next((n.split("=", 1)[1] for n in evidence.notes if n.startswith("startup_s=")), 30))
    return simulate_stats(stats, scaling_config(evidence), run=run, startup_s=startup, arrivals=acc.per_second)


def _values(evidence: Evidence) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fact in evidence.configs:
        merged.update(fact.values)
        merged.setdefault("dialects", []).append(fact.kind)
    return merged


def timeout_ms(evidence: Evidence) -> float:
    """The scoring timeout in force: `request_timeout_ms` (v2, 5000), `scoring_timeout_ms` (v1, 60000)."""
    values = _values(evidence)
    for key in ("request_timeout_ms", "scoring_timeout_ms"):
        if values.get(key):
            return float(values[key])
    return 60000.0


def scaling_config(evidence: Evidence) -> dict[str, Any]:
    """How the service scales, from any understood config: replicas, utilization, concurrency, queue wait."""
    values = _values(evidence)
    hpa = next((f.values for f in evidence.configs if f.kind == "hpa"), {})
    fixed = values.get("num_replicas") or values.get("instance_count")
    autoscale = values.get("autoscale_enabled")
    minimum = hpa.get("min_replicas") or values.get("autoscale_min_replicas") or fixed or values.get("replicas") or 1
    maximum = hpa.get("max_replicas") or values.get("autoscale_max_replicas") or fixed or minimum
    if fixed and (autoscale is False or "azureml-v2-managed" in values.get("dialects", [])):
        minimum = maximum = fixed
    return {"min_replicas": int(minimum), "max_replicas": int(max(maximum, minimum)),
            "target_utilization": float(hpa.get("target_utilization") or values.get("autoscale_target_utilization") or 70),
            "max_concurrent": int(values.get("max_concurrent_requests") or 1),
            "max_wait_ms": float(values.get("max_request_wait_time_ms") or 500),
            "settings": values.get("settings") or {}, "dialects": values.get("dialects", []),
            "autoscale": bool(hpa) or autoscale is not False}
