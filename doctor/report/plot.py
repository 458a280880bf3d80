"""Pictures of traffic: requests/s, capacity and 503s over time, as inline SVG (HTML report) or a sparkline (console)."""

from __future__ import annotations

from html import escape as _html_escape
from typing import Any


WIDTH, HEIGHT, PAD = 720, 220, 36
_SPARK = "▁▂▃▄▅▆▇█"


def escape(text: str) -> str:
    """`&`, `<` and `>` escaped for SVG text (as xml.sax.saxutils.escape, without importing urllib.request)."""
    return _html_escape(text, quote=False)


def _series(stats_or_series: dict[str, Any]) -> dict[str, Any]:
    return stats_or_series.get("series", stats_or_series) if isinstance(stats_or_series, dict) else {}


def _capacity(stats: dict[str, Any], series: dict[str, Any]) -> list[float]:
    """Requests/s the simulated replicas can serve, on the series' time axis (empty without a replay)."""
    sim = stats.get("simulation") or {}
    points, start, step = sim.get("capacity") or [], series.get("start_s"), series.get("step_s", 1)
    if not points or start is None or not sim.get("service_s"):
        return []
    per_replica = sim["current"]["max_concurrent"] / sim["service_s"]
    out, index = [], 0
    for i in range(len(series.get("rps", []))):
        second = start + i * step
        while index + 1 < len(points) and points[index + 1][0] <= second:
            index += 1
        out.append(round(points[index][1] * per_replica, 3))
    return out


def _path(values: list[float], top: float) -> str:
    if not values:
        return ""
    dx = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    coords = [f"{PAD + i * dx:.1f},{HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD):.1f}" for i, v in enumerate(values)]
    return "M" + " L".join(coords)


def svg_chart(stats_or_series: dict[str, Any]) -> str:
    """A self-contained SVG: requests/s (blue), 503/s (red), simulated capacity (grey dashed)."""
    series = _series(stats_or_series)
    rps, bad = series.get("rps", []), series.get("rps_503", [])
    capacity = _capacity(stats_or_series, series)
    top = max(rps + bad + capacity + [1.0]) * 1.1
    lines = [(rps, "#1f77b4", "", "requests/s"), (bad, "#d62728", "", "503/s"), (capacity, "#7f7f7f", ' stroke-dasharray="5,4"', "capacity (simulated)")]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             'role="img" aria-label="requests per second, 503s and capacity over time" font-family="sans-serif" font-size="11">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end">{top:.0f}</text>',
             f'<text x="{PAD}" y="{HEIGHT - PAD + 14}">{escape(str(series.get("start", "")))}</text>',
             f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 14}" text-anchor="end">step {series.get("step_s", 1)} s</text>']
    for index, (values, colour, dash, label) in enumerate(lines):
        if values:
            parts.append(f'<path d="{_path(values, top)}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
            parts.append(f'<text x="{PAD + 10 + index * 150}" y="{PAD - 10}" fill="{colour}">{escape(label)}</text>')
    return "\n".join(parts + ["</svg>"])


def terminal_chart(stats_or_series: dict[str, Any], width: int = 60) -> str:
    """Two compact sparklines: requests/s and 503/s, with their peaks."""
    series = _series(stats_or_series)
    rps, bad = series.get("rps", []), series.get("rps_503", [])
    if not rps:
        return ""
    top = max(rps) or 1.0
    return (f"req/s {_spark(rps, top, width)} peak {max(rps):g}\n"
            f"503/s {_spark(bad, top, width)} peak {max(bad, default=0):g}")


def _spark(values: list[float], top: float, width: int) -> str:
    step = max(1, -(-len(values) // width))
    buckets = [max(values[i:i + step]) for i in range(0, len(values), step)]
    return "".join(" " if v <= 0 else _SPARK[min(len(_SPARK) - 1, int(v / top * (len(_SPARK) - 1) + 0.5))] for v in buckets)
