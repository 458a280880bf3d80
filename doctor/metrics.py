"""What metric series say about one container, in the plain values rules and templates read (`c.metrics`)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from doctor.convert import format_time
from doctor.evidence import Evidence, MetricSeries


def container_summary(evidence: Evidence, pod: str | None, container: str) -> dict[str, Any]:
    """Per container, what the rules read: memory peak and limit (and when), restarts seen, throttling."""
    def mine(series: MetricSeries) -> bool:
        labels = series.labels
        if pod is not None:
            return labels.get("pod") == pod and labels.get("container", container) == container
        return labels.get("name") == container

    out: dict[str, Any] = {}
    for series in (s for s in evidence.metrics if mine(s)):
        values = [v for _, v in series.points]
        if series.name == "memory_working_set_bytes":
            peak_t, peak = max(series.points, key=lambda p: p[1])
            out.update(memory_peak_bytes=peak, memory_peak_at=format_time(datetime.fromtimestamp(peak_t, timezone.utc), "seconds"),
                       memory_query=series.query, memory_points=list(series.points))
        elif series.name == "memory_limit_bytes":
            out.update(memory_limit_metric_bytes=max(values))
        elif series.name == "restarts_total":
            out.update(restarts_in_window=int(max(values) - min(values)))
        elif series.name == "cpu_throttled_ratio":
            out.update(cpu_throttled_ratio_max=max(values))
    if out.get("memory_peak_bytes") and out.get("memory_limit_metric_bytes"):
        out["memory_peak_ratio"] = out["memory_peak_bytes"] / out["memory_limit_metric_bytes"]
    return out
