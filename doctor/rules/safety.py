"""The safety net's precedence and raw facts: fallback rules give way to any specific diagnosis, and findings
that quote raw facts can read the last lines of the logs.

A rule marked `fallback: true` (`deploy-failed`, `unexplained-failure`, …) reports a failure signal that no
specific rule explains. It is dropped when any rule that is not a fallback matched at error or above, so the
generic finding never adds noise next to a diagnosis; fallback rules order themselves with `suppresses:`.
"""

from __future__ import annotations

from typing import Any

from doctor.evidence import Evidence, Severity
from doctor.findings import Check
from doctor.rules.model import Rule

TAIL_LINES = 5
_TAIL_BYTES = 16 * 1024
_TAIL_SOURCES = 3


def drop_fallbacks(rules: list[Rule], findings: dict[str, Any], checks: dict[str, Check]) -> dict[str, str]:
    """Remove fallback findings when a specific rule diagnosed an error; which rule each gave way to. `findings`:
    per rule that holds, its finding or what stands for it before it is built (`rule_id`, `severity`, `priority`)."""
    fallback = {r.id for r in rules if r.fallback}
    specific = sorted((f for rid, f in findings.items() if rid not in fallback and f.severity.rank >= Severity.ERROR.rank),
                      key=lambda f: (-f.severity.rank, -f.priority, f.rule_id))
    if not specific:
        return {}
    by: dict[str, str] = {}
    for rule_id in sorted(fallback & set(findings)):
        del findings[rule_id]
        by[rule_id] = specific[0].rule_id
        checks[rule_id] = Check(rule_id, "skipped", f"suppressed: {specific[0].rule_id} explains the same evidence more specifically")
    return by


def wants_tails(rule: Rule) -> bool:
    """Whether the rule's texts or values read `log_tail` (reading tails costs a seek per log)."""
    return any("log_tail" in text for text in (rule.title, rule.cause, rule.fix, *(v for _, v in rule.values)))


def log_tails(evidence: Evidence) -> list[dict[str, Any]]:
    """The last lines of the container logs, previous logs first (where a crash's last words are); cached."""
    if "log_tail" not in evidence.cache:
        sources = sorted((s for s in evidence.logs if s.kind == "container"), key=lambda s: (not s.previous, s.name))
        tails = [{"source": s.name, "container": s.container, "previous": s.previous, "lines": _tail(s)}
                 for s in sources]
        evidence.cache["log_tail"] = [t for t in tails if t["lines"]][:_TAIL_SOURCES]
    return list(evidence.cache["log_tail"])


def _tail(source: Any) -> list[str]:
    """The last TAIL_LINES non-empty lines of one log (at most 300 characters each)."""
    try:
        with source.open() as handle:
            try:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - _TAIL_BYTES))
            except (OSError, ValueError):
                pass  # not seekable: read it through, keeping the end
            data = handle.read()[-_TAIL_BYTES:]
    except OSError:
        return []
    lines = [line.strip()[:300] for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-TAIL_LINES:]
