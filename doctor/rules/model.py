"""Rules as small frozen dataclasses, built from validated YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Union

from doctor.evidence import Severity


@dataclass(frozen=True, slots=True)
class After:
    """`unless_after`: a hit does not count when this pattern matched shortly before (same captures); `only_after`:
    a hit counts only then."""

    patterns: tuple[str, ...]
    same: tuple[str, ...] = ()
    within: timedelta | None = None
    lines: int = 50


@dataclass(frozen=True, slots=True)
class LogCond:
    """Lines matching a pattern, at least `min_count` of them (within a time window) in one log."""

    patterns: tuple[str, ...]
    source: str = "any"
    min_count: int = 1
    within: timedelta | None = None
    unless_after: After | None = None
    only_after: After | None = None
    bind: str | None = None
    where: str = ""
    later: bool = False  # searched after the scan, when the rest of its `all:` found lines (`ScanPlan`'s `gated`)


@dataclass(frozen=True, slots=True)
class EventCond:
    """Events whose reason and message match, counted with their repeat counts."""

    reason: str | None = None
    message: str | None = None
    type: str | None = None
    min_count: int = 1
    bind: str | None = None
    where: str = ""


@dataclass(frozen=True, slots=True)
class ExprCond:
    """A CEL predicate over one kind of evidence (state, config, node, traffic) or over the bindings."""

    scope: str
    expr: str
    kind: str | None = None
    bind: str | None = None
    where: str = ""


@dataclass(frozen=True, slots=True)
class AllCond:
    """Every part holds."""

    parts: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AnyCond:
    """At least one part holds; the bindings of every part that holds are kept."""

    parts: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class NotCond:
    """The part does not hold."""

    part: "Condition"


@dataclass(frozen=True, slots=True)
class OptionalCond:
    """Always holds; when the part holds too, its bindings and evidence are kept (`optional:` in a rule file,
    what `any: [PART, expr: 'true']` used to say)."""

    part: "Condition"


Condition = Union[LogCond, EventCond, ExprCond, AllCond, AnyCond, NotCond, OptionalCond]


@dataclass(frozen=True, slots=True)
class Example:
    """A piece of evidence written inline in a rule file, that the rule must (or must not) match."""

    name: str
    data: dict[str, Any]
    should_match: bool
    where: str = ""


@dataclass(frozen=True, slots=True)
class RuledOutSpec:
    """A look-alike cause a rule considers: shown as ruled out when `when` holds (always, without one)."""

    rule_id: str
    why: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One diagnosis: when the condition holds, a finding with these texts."""

    id: str
    title: str
    severity: Severity
    cause: str
    fix: str
    when: Condition
    priority: int = 0
    description: str = ""
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    suppresses: tuple[str, ...] = ()
    fallback: bool = False  # a safety net: dropped when any non-fallback rule matched at error or above
    consequence_of: tuple[str, ...] = ()
    ruled_out: tuple[RuledOutSpec, ...] = ()
    needs: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    examples: tuple[Example, ...] = ()
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        """`file:line` of the rule, for messages."""
        return f"{self.path}:{self.line}"

    def conditions(self) -> list[Condition]:
        """Every condition of the rule: its `when` and its ruled-out checks, depth first."""
        out = walk(self.when)
        for spec in self.ruled_out:
            if spec.when is not None:
                out.extend(walk(spec.when))
        return out


def walk(cond: Condition) -> list[Condition]:
    """The condition and every condition inside it, depth first."""
    out: list[Condition] = [cond]
    if isinstance(cond, (AllCond, AnyCond)):
        for part in cond.parts:
            out.extend(walk(part))
    elif isinstance(cond, (NotCond, OptionalCond)):
        out.extend(walk(cond.part))
    return out


@dataclass
class RuleSet:
    """Rules by id, in load order."""

    rules: dict[str, Rule] = field(default_factory=dict)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)
