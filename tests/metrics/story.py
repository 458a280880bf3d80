"""Generated metric stories (not recordings): OpenMetrics text with the standard cAdvisor and kube-state-metrics
series names, for a pod of a fixture bundle, around the bundle's collection time."""

from __future__ import annotations

from datetime import datetime

MI = 1024 * 1024


def oom_story(namespace: str, pod: str, container: str, end: datetime, limit: int) -> tuple[str, float]:
    """Working set climbing from 300 MiB to the limit over 20 minutes, a kill (restart), then climbing again;
    returns the OpenMetrics text and the peak it contains."""
    labels = f'namespace="{namespace}",pod="{pod}",container="{container}"'
    t_end = int(end.timestamp())
    start = t_end - 3600
    mem, lim, restarts, throttled, periods = [], [], [], [], []
    peak, count, base = 0.0, 3, 300 * MI
    for t in range(start, t_end + 1, 30):
        phase = (t - start) % 1500  # a kill every 25 minutes
        if phase == 0 and t != start:
            count += 1
        value = min(base + (limit - base) * min(phase / 1200, 1.0) - (0 if phase < 1200 else 4096), limit - 4096)
        peak = max(peak, value)
        mem.append(f"container_memory_working_set_bytes{{{labels}}} {value:.0f} {t}")
        lim.append(f'kube_pod_container_resource_limits{{{labels},resource="memory",unit="byte"}} {limit} {t}')
        restarts.append(f"kube_pod_container_status_restarts_total{{{labels}}} {count} {t}")
        periods.append(f"container_cpu_cfs_periods_total{{{labels}}} {(t - start) * 10} {t}")
        throttled.append(f"container_cpu_cfs_throttled_periods_total{{{labels}}} {(t - start) * 2} {t}")
    text = "\n".join([
        "# TYPE container_memory_working_set_bytes gauge", *mem,
        "# TYPE kube_pod_container_resource_limits gauge", *lim,
        "# TYPE kube_pod_container_status_restarts_total counter", *restarts,
        "# TYPE container_cpu_cfs_periods_total counter", *periods,
        "# TYPE container_cpu_cfs_throttled_periods_total counter", *throttled,
        "# EOF", ""])
    return text, peak
