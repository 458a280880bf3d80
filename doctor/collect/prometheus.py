"""Metrics as evidence: a Prometheus server's view of the target around the failure window.

Read-only HTTP GETs of `/api/v1/query_range` with the standard series names: cAdvisor's
`container_memory_working_set_bytes` and CFS throttling counters, kube-state-metrics'
`kube_pod_container_resource_limits` and `kube_pod_container_status_restarts_total`. Every PromQL query
made is kept (`MetricSeries.query`) so the report can show it and a reader can run it again. A server that
cannot be reached or answers an error is a collector error: the rest of the check goes on.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from doctor.convert import format_time
from doctor.evidence import CollectorError, Evidence, MetricSeries

DEFAULT_WINDOW = timedelta(hours=1)
MAX_POINTS = 600  # per series: enough for a chart and a peak, bounded whatever the window
TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class Selector:
    """Which series belong to the target: label matchers in PromQL, and how each series is named."""

    matchers: str  # e.g. namespace="ml-prod",pod=~"scorer-1|scorer-2",container!=""
    by: str  # the labels a series is grouped by, e.g. "pod, container"


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def promql_regex_alternatives(values: list[str]) -> str:
    """A PromQL regex literal matching exactly these values (RE2 metacharacters escaped)."""
    special = set(r"\.^$|?*+()[]{}")
    parts = ["".join("\\" + ch if ch in special else ch for ch in v) for v in sorted(set(values))]
    return promql_string("|".join(parts))


def selector_for(evidence: Evidence) -> Selector | None:
    """The target's series: its pods (Kubernetes) or its container name (Docker); None when neither is known."""
    pods = sorted({s.pod for s in evidence.states if s.pod and not getattr(s, "init", False)})
    containers = sorted({s.container for s in evidence.states if s.pod})
    namespace = namespace_of(evidence)
    if pods:
        parts = [f"pod=~{promql_regex_alternatives(pods)}"]
        if namespace:
            parts.insert(0, f"namespace={promql_string(namespace)}")
        if containers:
            parts.append(f"container=~{promql_regex_alternatives(containers)}")
        return Selector(",".join(parts), "pod, container")
    names = sorted({s.container for s in evidence.states})
    if names:
        return Selector(f"name=~{promql_regex_alternatives(names)}", "name")
    return None


def namespace_of(evidence: Evidence) -> str | None:
    """The namespace in a `k8s:NS/KIND/NAME` target name (a bundle keeps its manifest's target)."""
    name = evidence.target.name
    name = name.split("k8s:", 1)[1] if "k8s:" in name else name if evidence.target.kind == "k8s" else ""
    parts = name.split("/")
    return parts[0] if len(parts) == 3 and parts[0] else None


def queries(sel: Selector) -> dict[str, str]:
    """The PromQL queries by what they measure."""
    m, by = sel.matchers, sel.by
    return {
        "memory_working_set_bytes": f"max by ({by}) (container_memory_working_set_bytes{{{m}}})",
        "memory_limit_bytes": f'max by ({by}) (kube_pod_container_resource_limits{{{m},resource="memory"}})',
        "restarts_total": f"max by ({by}) (kube_pod_container_status_restarts_total{{{m}}})",
        "cpu_throttled_ratio": (f"sum by ({by}) (rate(container_cpu_cfs_throttled_periods_total{{{m}}}[5m]))"
                                f" / sum by ({by}) (rate(container_cpu_cfs_periods_total{{{m}}}[5m]))"),
    }


def collect_metrics(evidence: Evidence, url: str, since: datetime | None = None) -> None:
    """Add the target's metric series to `evidence` (or a collector error saying why there are none)."""
    sel = selector_for(evidence)
    if sel is None:
        evidence.collector_errors.append(CollectorError("prometheus", "no container or pod known to query for"))
        return
    end = evidence.now or datetime.now(timezone.utc)
    start = since or evidence.since or end - DEFAULT_WINDOW
    step = max(15, int((end - start).total_seconds() / MAX_POINTS) + 1)
    for name, query in queries(sel).items():
        try:
            result = query_range(url, query, start, end, step)
        except PrometheusError as err:
            evidence.collector_errors.append(CollectorError("prometheus", f"{name}: {err}"))
            if err.fatal:
                return
            continue
        for item in result:
            labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
            points = tuple((float(t), float(v)) for t, v in item.get("values") or [] if _finite(v))
            if points:
                evidence.metrics.append(MetricSeries(name, query, labels, points))
    evidence.notes.append(f"prometheus: {len(evidence.metrics)} series from {_host(url)}, "
                          f"{format_time(start, 'seconds')} to {format_time(end, 'seconds')}, step {step}s")


class PrometheusError(Exception):
    """A query that did not give a result; `fatal` when the server itself cannot be reached."""

    def __init__(self, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def query_range(url: str, query: str, start: datetime, end: datetime, step: int) -> list[dict[str, Any]]:
    """`GET /api/v1/query_range`: the matrix result's series."""
    params = urllib.parse.urlencode({"query": query, "start": f"{start.timestamp():.3f}",
                                     "end": f"{end.timestamp():.3f}", "step": str(step)})
    request = urllib.request.Request(url.rstrip("/") + "/api/v1/query_range?" + params, method="GET",
                                     headers={"Accept": "application/json", "User-Agent": "mldoctor"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - the user's server
            body = json.loads(answer.read(64 * 1024 * 1024))
    except urllib.error.HTTPError as err:
        raise PrometheusError(f"{_host(url)} answered HTTP {err.code}{_api_error(err)}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        reason = getattr(err, "reason", err)
        raise PrometheusError(f"cannot reach {_host(url)} ({reason})", fatal=True) from None
    except ValueError:
        raise PrometheusError(f"{_host(url)} did not answer JSON: is it a Prometheus server?", fatal=True) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or body.get("status") != "success" or data.get("resultType") != "matrix":
        raise PrometheusError(f"unexpected answer from {_host(url)}: {str(body)[:200]}")
    return [r for r in data.get("result") or [] if isinstance(r, dict)]


def _api_error(err: urllib.error.HTTPError) -> str:
    try:
        return ": " + str(json.loads(err.read(65536)).get("error", ""))[:300]
    except (ValueError, OSError, AttributeError):
        return ""


def _finite(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number == number and number not in (float("inf"), float("-inf"))


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1] or url
