"""The terminal report (rich): findings by severity with evidence, cause and fix, then what was checked."""

from __future__ import annotations

import io
import os
import shutil

from doctor.findings import Finding, Report
from doctor.report.escape import for_terminal
from doctor.status import NOT_SHOWN_WORKING, PASTED_NOT_SHOWN

_STYLE = {"critical": "bold white on red", "error": "bold red", "warning": "bold yellow", "info": "cyan"}
_STATUS = {"failing": "bold red", "warning": "bold yellow", "healthy": "bold green", "unknown": "bold magenta"}


def escape(text: str) -> str:
    """Evidence text for rich markup: control characters shown escaped (`\\x1b`), markup brackets escaped."""
    from rich.markup import escape as markup

    return markup(for_terminal(text))


def render(report: Report, color: bool = False) -> str:
    """The report for a person at a terminal."""
    from rich.console import Console

    width = min(shutil.get_terminal_size((110, 24)).columns, 140)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color or "NO_COLOR" in os.environ,
                      width=width, highlight=False, soft_wrap=False)
    _header(console, report)
    for finding in report.findings:
        if finding.consequence_of:
            _consequence(console, finding)
        else:
            _finding(console, finding)
    _checks(console, report)
    return buf.getvalue()


def _header(console: object, report: Report) -> None:
    from rich.text import Text

    status = report.status.upper()
    line = Text.assemble(("mldoctor ", "bold"), for_terminal(f"{report.target.kind}:{report.target.name}  "),
                         (status, _STATUS[report.status]))
    if report.predicted:
        line.append("  (predicted by preflight)", style="italic")
    console.print(line)  # type: ignore[attr-defined]
    if not report.redacted:
        console.print(Text("SECRETS NOT REDACTED (--no-redact): do not share this report", style="bold red"))  # type: ignore[attr-defined]
    counts = {}
    for f in report.findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    if counts:
        console.print(", ".join(f"{n} {s}" for s, n in counts.items()))  # type: ignore[attr-defined]
    if report.stack:
        console.print(Text(stack_line(report.stack), style="dim"))  # type: ignore[attr-defined]
    chart = report.attachments.get("traffic.txt")
    if chart:
        console.print(Text(chart, style="dim"))  # type: ignore[attr-defined]
    console.print()  # type: ignore[attr-defined]


def stack_line(stack: dict[str, object]) -> str:
    """`stack: TITLE VERSION (from SIGNALS)`: which server the report is about and why mldoctor thinks so."""
    version = f" {stack['version']}" if stack.get("version") else ""
    signals = ", ".join(str(s) for s in list(stack.get("signals") or [])[:3])  # type: ignore[call-overload]
    return f"stack: {stack['title']}{version} (from {signals})"


def _finding(console: object, f: Finding) -> None:
    from rich.panel import Panel
    from rich.table import Table

    body = Table.grid(padding=(0, 1))
    body.add_column(style="bold", no_wrap=True)
    body.add_column(overflow="fold")
    body.add_row("Cause", escape(f.cause))
    body.add_row("Fix", escape(f.fix))
    for ex in f.evidence:
        where = f"{ex.source}:{ex.line}" if ex.line else ex.source
        body.add_row("Evidence", f"[dim]{escape(where)}[/dim]\n{escape(ex.excerpt)}")
    for r in f.ruled_out:
        body.add_row("Ruled out", f"{escape(r.rule_id)}: {escape(r.why)}")
    title = f"[{_STYLE[f.severity.value]}]{f.severity.value.upper()}[/] {escape(f.rule_id)}: {escape(f.title)}"
    console.print(Panel(body, title=title, title_align="left", border_style=_STYLE[f.severity.value].split()[-1]))  # type: ignore[attr-defined]


def _consequence(console: object, f: Finding) -> None:
    """A consequence, compactly under its root: severity, id and title, and the fix in one line."""

    console.print(f"  ↳ [{_STYLE[f.severity.value]}]{f.severity.value.upper()}[/] {escape(f.rule_id)} "  # type: ignore[attr-defined]
                  f"(consequence of {escape(f.consequence_of or '')}): {escape(f.title)}")
    console.print(f"    [dim]{escape(f.fix)}[/dim]")  # type: ignore[attr-defined]
    console.print()  # type: ignore[attr-defined]


def _checks(console: object, report: Report) -> None:

    counts: dict[str, int] = {}
    for check in report.checks:
        counts[check.result] = counts.get(check.result, 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in report.evidence_summary.items() if v)
    console.print(f"Checked {len(report.checks)} rules ({', '.join(f'{n} {r}' for r, n in sorted(counts.items()))}) "  # type: ignore[attr-defined]
                  f"on: {summary or 'no evidence'}.")
    skipped = [c for c in report.checks if c.result == "skipped"]
    for check in skipped[:12]:
        console.print(f"  [dim]skipped {escape(check.rule_id)}: {escape(check.reason)}[/dim]")  # type: ignore[attr-defined]
    for note in report.notes:
        console.print(f"  [dim]note: {escape(note)}[/dim]")  # type: ignore[attr-defined]
    for err in report.collector_errors:
        console.print(f"[yellow]Not collected[/yellow] {escape(err.collector)}: {escape(err.error)}")  # type: ignore[attr-defined]
    if not report.findings:
        starting = any(note.startswith(NOT_SHOWN_WORKING) for note in report.notes)
        pasted = any(note.startswith(PASTED_NOT_SHOWN) for note in report.notes)
        console.print("[green]No problem found.[/green]" if report.status == "healthy"  # type: ignore[attr-defined]
                      else "[yellow]No problem found, and nothing shows the service working yet.[/yellow]" if starting
                      else "[yellow]No failure found in the pasted text, and nothing in it shows the service working.[/yellow]" if pasted
                      else "[yellow]Nothing about the running service was collected, so nothing could be checked.[/yellow]")


def render_summary(reports: list[Report], color: bool = False) -> str:
    """One line per target (a namespace check): status, worst finding, counts; the details follow."""
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=140, highlight=False)
    table = Table(title=f"mldoctor: {len(reports)} targets", title_justify="left")
    for column in ("target", "status", "errors", "warnings", "first finding"):
        table.add_column(column)
    for r in sorted(reports, key=lambda r: ({"failing": 0, "warning": 1, "unknown": 2, "healthy": 3}.get(r.status, 4), r.target.name)):
        errors = len([f for f in r.findings if f.severity.rank >= 2])
        warnings = len([f for f in r.findings if f.severity.rank == 1])
        first = f"{r.findings[0].rule_id}: {r.findings[0].title}" if r.findings else ""
        table.add_row(escape(r.target.name), f"[{_STATUS[r.status]}]{r.status}[/]", str(errors), str(warnings),
                      escape(first[:80]))
    console.print(table)
    for note in (n for r in reports for n in r.notes if n.startswith("cluster ")):
        console.print(f"[bold yellow]{escape(note)}[/]")  # a cluster of a multi-cluster check that did not answer
    console.print()
    return buf.getvalue()
