"""Markdown for tickets and pull-request comments."""

from __future__ import annotations

from doctor.findings import Report
from doctor.report.escape import for_markdown as md, for_markdown_prose as prose, in_code as code, in_fence

_ICON = {"critical": "🛑", "error": "❌", "warning": "⚠️", "info": "ℹ️"}


def _fence(text: str) -> str:
    return "```\n" + in_fence(text) + "\n```"


def _one_line(text: str) -> str:
    return prose(text).replace("\n", " ").replace("\r", " ")


def render(report: Report, color: bool = False) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [f"# mldoctor: {report.target.kind} `{code(report.target.name)}` is **{report.status}**", ""]
    if report.predicted:
        out += ["_Findings are predictions from a local preflight run._", ""]
    if not report.redacted:
        out += ["**Secrets are NOT redacted in this report (`--no-redact`).**", ""]
    if not report.findings:
        out += ["No finding at warning or above.", ""]
    for f in report.findings:
        if f.consequence_of:
            out += [f"### ↳ {_ICON.get(f.severity.value, '')} `{code(f.rule_id)}` ({f.severity.value}): {_one_line(f.title)}",
                    "", f"_Consequence of `{code(f.consequence_of)}` above._", ""]
        else:
            out += [f"## {_ICON.get(f.severity.value, '')} `{code(f.rule_id)}` ({f.severity.value}): {_one_line(f.title)}", ""]
        out += [f"**Cause.** {prose(f.cause)}", "", f"**Fix.** {prose(f.fix)}", ""]
        if f.ruled_out:
            out += ["**Ruled out**", ""] + [f"- `{code(r.rule_id)}`: {prose(r.why)}" for r in f.ruled_out] + [""]
        if f.evidence:
            out += ["**Evidence**", ""]
            for e in f.evidence:
                where = f"{e.source}:{e.line}" if e.line else e.source
                out += [f"- `{code(where)}`", "", _fence(e.excerpt), ""]
    out += _checks(report)
    return "\n".join(out).rstrip() + "\n"


def _checks(report: Report) -> list[str]:
    out = ["## Checks", "", "| rule | result | reason |", "| --- | --- | --- |"]
    out += [f"| `{code(c.rule_id)}` | {c.result} | {md(c.reason)} |" for c in report.checks]
    if report.collector_errors:
        out += ["", "## Not collected", ""]
        out += [f"- **{md(e.collector)}**: {md(e.error)}" for e in report.collector_errors]
    summary = ", ".join(f"{v} {k}" for k, v in report.evidence_summary.items())
    return out + ["", f"Evidence read: {summary}.", ""]
