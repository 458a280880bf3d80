"""Self-contained HTML report (placeholder until the full renderer lands)."""

from __future__ import annotations

from typing import Sequence

from doctor.findings import Report


def render(report: Report, color: bool = False) -> str:
    """The report as one HTML file."""
    return render_many([report])


def render_many(reports: Sequence[Report]) -> str:
    """Several reports as one HTML file."""
    raise NotImplementedError
