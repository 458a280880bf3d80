"""Markdown for tickets and pull-request comments."""

from __future__ import annotations

from doctor.findings import Report

_ICON = {"critical": "🛑", "error": "❌", "warning": "⚠️", "info": "ℹ️"}


def _fence(text: str) -> str:
    return "```\n" + text.replace("```", "`\u200b``") + "\n```"


def render(report: Report, color: bool = False) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [f"# mldoctor: {report.target.kind} `{report.target.name}` is **{report.status}**", ""]
    if report.predicted:
        out += ["_Findings are predictions from a local preflight run._", ""]
    if not report.redacted:
        out += ["**Secrets are NOT redacted in this report (`--no-redact`).**", ""]
    if not report.findings:
        out += ["No finding at warning or above.", ""]
    for f in report.findings:
        if f.consequence_of:
            out += [f"### ↳ {_ICON.get(f.severity.value, '')} `{f.rule_id}` ({f.severity.value}): {f.title}", "",
                    f"_Consequence of `{f.consequence_of}` above._", ""]
        else:
            out += [f"## {_ICON.get(f.severity.value, '')} `{f.rule_id}` ({f.severity.value}): {f.title}", ""]
        out += [f"**Cause.** {f.cause}", "", f"**Fix.** {f.fix}", ""]
        if f.ruled_out:
            out += ["**Ruled out**", ""] + [f"- `{r.rule_id}`: {r.why}" for r in f.ruled_out] + [""]
        if f.evidence:
            out += ["**Evidence**", ""]
            for e in f.evidence:
                where = f"{e.source}:{e.line}" if e.line else e.source
                out += [f"- `{where}`", "", _fence(e.excerpt), ""]
    out += _checks(report)
    return "\n".join(out).rstrip() + "\n"


def _checks(report: Report) -> list[str]:
    out = ["## Checks", "", "| rule | result | reason |", "| --- | --- | --- |"]
    out += [f"| `{c.rule_id}` | {c.result} | {c.reason.replace('|', '/')} |" for c in report.checks]
    if report.collector_errors:
        out += ["", "## Not collected", ""]
        out += [f"- **{e.collector}**: {e.error}" for e in report.collector_errors]
    summary = ", ".join(f"{v} {k}" for k, v in report.evidence_summary.items())
    return out + ["", f"Evidence read: {summary}.", ""]
