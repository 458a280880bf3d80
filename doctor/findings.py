"""What a diagnosis produces: findings, the checks that ran, and the report holding them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doctor.evidence import CollectorError, Severity, Target

SCHEMA = "mldoctor.report/v1"


@dataclass(frozen=True, slots=True)
class Excerpt:
    """One piece of evidence behind a finding: where it is and what it says."""

    source: str
    excerpt: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnosis: which rule, how bad, why, what to change, and the evidence."""

    rule_id: str
    severity: Severity
    title: str
    cause: str
    fix: str
    evidence: tuple[Excerpt, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    priority: int = 0
    predicted: bool = False


@dataclass(frozen=True, slots=True)
class Check:
    """A rule that ran: `matched`, `clear` or `skipped`, with the reason."""

    rule_id: str
    result: str
    reason: str


@dataclass
class Report:
    """The whole diagnosis of one target."""

    target: Target
    findings: list[Finding]
    checks: list[Check]
    collector_errors: list[CollectorError]
    evidence_summary: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    predicted: bool = False
    redacted: bool = True
    attachments: dict[str, str] = field(default_factory=dict)  # e.g. "traffic.svg" for the HTML report

    @property
    def status(self) -> str:
        """`failing` with an error or worse, `warning` with a warning, else `healthy`."""
        worst = max((f.severity.rank for f in self.findings), default=-1)
        if worst >= Severity.ERROR.rank:
            return "failing"
        return "warning" if worst == Severity.WARNING.rank else "healthy"

    def at_or_above(self, severity: Severity) -> list[Finding]:
        """The findings at or above a severity."""
        return [f for f in self.findings if f.severity.rank >= severity.rank]


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity the more specific (higher priority) first."""
    return sorted(findings, key=lambda f: (-f.severity.rank, -f.priority, f.rule_id))
