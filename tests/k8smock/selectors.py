"""Label and field selectors as the Kubernetes API server parses them (the subset mldoctor and kubectl use)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SET_OP = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_OP = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)([\w./-]+)\s*$")


class SelectorError(ValueError):
    """A selector the API server would reject with 400."""


@dataclass(frozen=True)
class Requirement:
    """One `key op values` term of a selector."""

    key: str
    op: str  # = != in notin exists !exists
    values: tuple[str, ...] = ()

    def matches(self, value: str | None) -> bool:
        """True when `value` (None: key absent) satisfies the term."""
        if self.op == "exists":
            return value is not None
        if self.op == "!exists":
            return value is None
        if self.op in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values


def split_terms(text: str) -> list[str]:
    """Comma-separated terms, commas inside `(...)` kept."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def parse_term(term: str, allow_sets: bool) -> Requirement:
    """One term parsed; SelectorError when the API server would refuse it."""
    if allow_sets and (m := _SET_OP.match(term)):
        values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
        return Requirement(m.group(1), m.group(2), values)
    if m := _EQ_OP.match(term):
        op = "!=" if m.group(2) == "!=" else "="
        return Requirement(m.group(1), op, (m.group(3),))
    if allow_sets and (m := _EXISTS.match(term)):
        return Requirement(m.group(2), "!exists" if m.group(1) else "exists")
    raise SelectorError(f"unable to parse requirement: {term!r}")


def label_matcher(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate over objects for a `labelSelector`."""
    reqs = [parse_term(t, allow_sets=True) for t in split_terms(text or "")]
    return lambda obj: all(r.matches(((obj.get("metadata") or {}).get("labels") or {}).get(r.key)) for r in reqs)


def field_value(obj: dict[str, Any], path: str) -> str | None:
    """The string value at a dotted field path, as field selectors compare it."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if node is None:
        return "" if path in ("spec.nodeName",) else None
    return str(node).lower() if isinstance(node, bool) else str(node)


def field_matcher(text: str | None, supported: frozenset[str]) -> Callable[[dict[str, Any]], bool]:
    """A predicate for a `fieldSelector`; fields outside `supported` are a 400, as on a real server."""
    reqs = [parse_term(t, allow_sets=False) for t in split_terms(text or "")]
    for req in reqs:
        if req.key not in supported:
            raise SelectorError(f'field label not supported: {req.key}')
    return lambda obj: all(r.matches(field_value(obj, r.key)) for r in reqs)
