"""Chat messages for the team's channel: Slack (Block Kit) and Microsoft Teams (an Adaptive Card).

One message per target, one section per root cause with its consequences folded in under it (a Deployment
whose five pods fail the same way is one root cause, not five messages). Everything taken from evidence is
escaped for the markup it lands in: Slack's mrkdwn (`&`, `<`, `>` are control characters there; `<url|text>`
makes links) and the Markdown subset of Adaptive Card text blocks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from doctor.findings import Finding, Report

# Slack: a section's text holds at most 3000 characters, a header 150, a message 50 blocks.
SLACK_SECTION_MAX = 3000
SLACK_HEADER_MAX = 150
SLACK_BLOCKS_MAX = 50
_ICON = {"critical": ":rotating_light:", "error": ":x:", "warning": ":warning:", "info": ":information_source:"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class RootCause:
    """A finding that is no other finding's consequence, with the findings that follow from it."""

    finding: Finding
    consequences: tuple[Finding, ...]


def root_causes(report: Report) -> list[RootCause]:
    """The report's findings grouped by root cause, in report order (the first is the first finding)."""
    follows: dict[str, list[Finding]] = {}
    roots = []
    ids = {f.rule_id for f in report.findings}
    for finding in report.findings:
        parent = getattr(finding, "consequence_of", None)
        if parent and parent in ids and parent != finding.rule_id:
            follows.setdefault(parent, []).append(finding)
        else:
            roots.append(finding)
    return [RootCause(f, tuple(follows.get(f.rule_id, ()))) for f in roots]


def _plain(text: str) -> str:
    """Control characters shown visibly (no terminal or markup tricks survive into a chat client)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Slack ----------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text for Slack mrkdwn: `&`, `<` and `>` escaped, as Slack documents, so evidence can make no link,
    user mention or `<!channel>` ping."""
    return _plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_code(text: str) -> str:
    """An evidence excerpt in a code block (backticks inside cannot close it)."""
    body = _plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("```", "`\u200b``")
    return "```" + body + "```"


def slack_payload(report: Report) -> dict[str, Any]:
    """The report as a Slack message (Block Kit)."""
    target = f"{report.target.kind}:{report.target.name}"
    header = _clip(f"mldoctor: {_plain(target)} is {report.status}", SLACK_HEADER_MAX)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    for root in root_causes(report):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(_slack_root(root), SLACK_SECTION_MAX)}})
        if root.finding.evidence:
            first = root.finding.evidence[0]
            where = f"{first.source}:{first.line}" if first.line else first.source
            text = f"{slack_escape(where)}\n{_slack_code(first.excerpt)}"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SLACK_SECTION_MAX)}]})
        blocks.append({"type": "divider"})
    if not report.findings:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _no_findings(report)}})
    if len(blocks) > SLACK_BLOCKS_MAX:
        cut = len(blocks) - SLACK_BLOCKS_MAX + 1
        blocks = blocks[: SLACK_BLOCKS_MAX - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"{cut} more block(s) left out: see the full report."}]}]
    return {"text": header, "blocks": blocks}


def _slack_root(root: RootCause) -> str:
    f = root.finding
    lines = [f"{_ICON.get(f.severity.value, '')} *{slack_escape(f.rule_id)}* ({f.severity.value}): {slack_escape(f.title)}",
             f"*Cause* {slack_escape(f.cause)}", f"*Fix* {slack_escape(f.fix)}"]
    if root.consequences:
        lines.append("*Consequences* " + "; ".join(f"{slack_escape(c.rule_id)}: {slack_escape(c.title)}"
                                                   for c in root.consequences))
    return "\n".join(lines)


def _no_findings(report: Report) -> str:
    ran = sum(1 for c in report.checks if c.result != "skipped")
    return f"No finding. {ran} checks ran on: " + ", ".join(f"{v} {k}" for k, v in report.evidence_summary.items() if v)


def render_slack(report: Report, color: bool = False) -> str:
    """The Slack payload as JSON text (what `--notify` posts to a Slack incoming webhook)."""
    return json.dumps(slack_payload(report), indent=2, ensure_ascii=False) + "\n"


# --- Teams ----------------------------------------------------------------------------------


def teams_escape(text: str) -> str:
    """Text for an Adaptive Card TextBlock: Markdown links from evidence broken (`[x](url)` cannot become a
    link: a zero-width space keeps `]` from `(`), and control characters shown visibly."""
    return _plain(text).replace("](", "]\u200b(")


def teams_payload(report: Report) -> dict[str, Any]:
    """The report as a Teams incoming-webhook message carrying one Adaptive Card (schema 1.4)."""
    target = f"{report.target.kind}:{report.target.name}"
    body: list[dict[str, Any]] = [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
                                   "text": f"mldoctor: {teams_escape(target)} is {report.status}"}]
    for root in root_causes(report):
        body.append(_teams_root(root))
    if not report.findings:
        body.append({"type": "TextBlock", "wrap": True, "text": teams_escape(_no_findings(report))})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def _teams_root(root: RootCause) -> dict[str, Any]:
    f = root.finding
    color = "Attention" if f.severity.value in ("error", "critical") else "Warning"
    items: list[dict[str, Any]] = [
        {"type": "TextBlock", "wrap": True, "weight": "Bolder", "color": color,
         "text": f"{teams_escape(f.rule_id)} ({f.severity.value}): {teams_escape(f.title)}"},
        {"type": "FactSet", "facts": [{"title": "Cause", "value": teams_escape(f.cause)},
                                      {"title": "Fix", "value": teams_escape(f.fix)}]},
    ]
    if f.evidence:
        first = f.evidence[0]
        where = f"{first.source}:{first.line}" if first.line else first.source
        items.append({"type": "TextBlock", "wrap": True, "fontType": "Monospace", "isSubtle": True,
                      "text": teams_escape(f"{where}: {first.excerpt}")})
    if root.consequences:
        items.append({"type": "TextBlock", "wrap": True, "isSubtle": True, "text": "Consequences: " + "; ".join(
            f"{teams_escape(c.rule_id)}: {teams_escape(c.title)}" for c in root.consequences)})
    return {"type": "Container", "separator": True, "items": items}


def render_teams(report: Report, color: bool = False) -> str:
    """The Teams payload as JSON text (what `--notify` posts to a Teams incoming webhook)."""
    return json.dumps(teams_payload(report), indent=2, ensure_ascii=False) + "\n"
