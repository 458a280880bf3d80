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
    "sarif": _lazy("sarif", "render"),
    "github": _lazy("github", "render"),
    "prometheus": _lazy("prometheus", "render"),
    "html": _lazy("html", "render"),
    "slack": _lazy("chat", "render_slack"),
    "teams": _lazy("chat", "render_teams"),
}

FORMATS: list[str] = list(REPORTERS)  # the one list of --format values

# formats whose many reports (k8s:NS/*) must merge into one document instead of being concatenated
MANY: dict[str, str] = {"sarif": "sarif", "prometheus": "prometheus", "html": "html"}


def render_many(fmt: str, reports: list[Report]) -> str:
    """Several reports as one document of a format listed in MANY."""
    import importlib

    return importlib.import_module(f"doctor.report.{MANY[fmt]}").render_many(reports)  # type: ignore[no-any-return]
