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
class RuledOut:
    """A look-alike cause that was considered and the evidence that excluded it."""

    rule_id: str
    why: str


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
    consequence_of: str | None = None  # the rule id of the finding this one follows from (its root cause)
    ruled_out: tuple[RuledOut, ...] = ()


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
    usable: bool = True  # something about the running service was read (doctor.status.usable)
    stack: dict[str, Any] | None = None  # the serving stack detected (doctor/stack.py), when the evidence shows one
    expression_errors: list[tuple[str, Any]] = field(default_factory=list)  # (rule id, exprs.EvalProblem)

    @property
    def status(self) -> str:
        """`failing` with an error or worse, `warning` with a warning; else `healthy` when the running service's
        evidence was read, `unknown` when it was not (docs/contract.md "Status")."""
        worst = max((f.severity.rank for f in self.findings), default=-1)
        if worst >= Severity.ERROR.rank:
            return "failing"
        if worst == Severity.WARNING.rank:
            return "warning"
        return "healthy" if self.usable else "unknown"

    def at_or_above(self, severity: Severity) -> list[Finding]:
        """The findings at or above a severity."""
        return [f for f in self.findings if f.severity.rank >= severity.rank]


def _rank(finding: Finding) -> tuple[int, int, str]:
    return (-finding.severity.rank, -finding.priority, finding.rule_id)


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Root causes most severe first (more specific first within a severity), each followed by its consequences.

    A root's place is that of the most severe finding it explains: a warning whose consequence is an error comes
    before other warnings' errors, because it is the cause of that error.
    """
    by_id = {f.rule_id: f for f in findings}
    children: dict[str, list[Finding]] = {}
    roots: list[Finding] = []
    for finding in findings:
        parent = finding.consequence_of
        if parent in by_id and parent != finding.rule_id and not _cycles(finding, by_id):
            children.setdefault(parent, []).append(finding)  # type: ignore[arg-type]
        else:
            roots.append(finding)

    def tree(root: Finding) -> list[Finding]:
        out = [root]
        for child in sorted(children.get(root.rule_id, []), key=_rank):
            out.extend(tree(child))
        return out

    groups = [tree(root) for root in roots]
    groups.sort(key=lambda group: (min(_rank(f)[0] for f in group),) + _rank(group[0])[1:])
    return [f for group in groups for f in group]


def _cycles(finding: Finding, by_id: dict[str, Finding]) -> bool:
    """True when following `consequence_of` from this finding comes back to it (never placed under itself)."""
    seen = {finding.rule_id}
    current = by_id.get(finding.consequence_of or "")
    while current is not None:
        if current.rule_id in seen:
            return True
        seen.add(current.rule_id)
        current = by_id.get(current.consequence_of or "")
    return False
