"""Reporters: each renders a Report to text in one format; nothing here collects or diagnoses."""

from __future__ import annotations

from typing import Callable, Protocol

from doctor.findings import Report


class Reporter(Protocol):
    """Renders a report as text."""

    def __call__(self, report: Report, color: bool = False) -> str:
        """The report in this format."""
        ...


def _lazy(module: str, name: str) -> Callable[..., str]:
    def render(report: Report, color: bool = False) -> str:
        import importlib

        return getattr(importlib.import_module(f"doctor.report.{module}"), name)(report, color)  # type: ignore[no-any-return]

    return render


REPORTERS: dict[str, Reporter] = {
    "console": _lazy("console", "render"),
    "json": _lazy("jsonfmt", "render"),
    "markdown": _lazy("markdown", "render"),
    "junit": _lazy("junit", "render"),
}
