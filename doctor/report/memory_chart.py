"""The memory chart of the HTML report: a container's working set against its limit, from Prometheus series."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from doctor.evidence import Evidence, MetricSeries

WIDTH, HEIGHT, PAD = 640, 220, 44
GIB = 1024**3


def memory_svg(evidence: Evidence) -> str | None:
    """A self-contained SVG for the first container with a working-set series; None when there is none."""
    usage = next((s for s in evidence.metrics if s.name == "memory_working_set_bytes"), None)
    if usage is None:
        return None
    limit = next((s for s in evidence.metrics if s.name == "memory_limit_bytes" and _same(s, usage)), None)
    t0 = min(t for t, _ in usage.points)
    t1 = max(max(t for t, _ in usage.points), t0 + 1)
    top = max([v for _, v in usage.points] + [v for _, v in (limit.points if limit else ())] + [1.0]) * 1.1
    who = "/".join(usage.labels[k] for k in ("pod", "container", "name") if usage.labels.get(k))

    def path(points: tuple[tuple[float, float], ...]) -> str:
        xs = [(PAD + (t - t0) / (t1 - t0) * (WIDTH - 2 * PAD), HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD))
              for t, v in points]
        return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xs)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="memory working set against the limit" font-family="sans-serif" font-size="11">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<text x="{PAD + 4}" y="{PAD + 12}">{top / GIB:.2f} GB</text>',
             f'<text x="{PAD}" y="{HEIGHT - PAD + 14}">{_clock(t0)}</text>',
             f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 14}" text-anchor="end">{_clock(t1)}</text>',
             f'<text x="{PAD}" y="{HEIGHT - 8}">{escape(who)}</text>',
             f'<path d="{path(usage.points)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>',
             f'<text x="{PAD + 10}" y="{PAD - 10}" fill="#1f77b4">working set</text>']
    if limit:
        parts += [f'<path d="{path(limit.points)}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,4"/>',
                  f'<text x="{PAD + 120}" y="{PAD - 10}" fill="#d62728">limit</text>']
    return "\n".join(parts + ["</svg>"])


def _same(a: MetricSeries, b: MetricSeries) -> bool:
    return all(a.labels.get(k) == b.labels.get(k) for k in ("pod", "container", "name"))


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
