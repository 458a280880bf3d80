"""No template text ever reaches a user: every built-in rule, rendered on every part of its evidence.

Each matching example is run as written, with each kind of evidence left out, with each log line left out, and
with each optional binding (bound under `any:`) undefined. Whenever the rule still matches, its title, cause, fix
and ruled-out reasons must read as finished sentences: no template error, no `undefined`/`None`, no doubled or
dangling punctuation, no empty parentheses, code spans or sentences.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator

import pytest

from doctor.rules.engine import Context, build_finding, evaluate
from doctor.rules.examples import example_evidence
from doctor.rules.loader import load_rules
from doctor.rules.logscan import ScanPlan, scan_all
from doctor.rules.model import AnyCond, Example, ExprCond, LogCond, Rule, walk

RULES = load_rules([])
EVIDENCE_KEYS = ("logs", "previous_logs", "access_log", "events", "states", "nodes", "configs")
MAX_LINES = 30

_QUOTED = re.compile(r"`[^`]*`|\"[^\"\n]*\"|'[^'\n]*'")  # quoted evidence keeps its own punctuation
_PROBLEMS = {
    "template error": re.compile(r"\[template (?:error|refused)"),
    "own text redacted": re.compile(r"\*\*\*REDACTED"),
    "undefined": re.compile(r"\bundefined\b|\bNone\b|\bnull\b"),
    "doubled period": re.compile(r"(?<!\.)\.\.(?![./\w])|\.\s+\.(?![./\w])"),
    "space before punctuation": re.compile(r"\s[,.;:](?:\s|$)"),
    "doubled punctuation": re.compile(r"[,;:]\s*[,;:]|[,;:]\s*\.(?![./\w])|\.\s*[,;]"),
    "empty parentheses": re.compile(r"\(\s*\)(?<!\w\(\))|\s\(\)"),
    "empty sentence": re.compile(r"(?:^|[.:;]\s)\s*[,;]|(?:^|[.:;]\s)\s*\.(?![./\w])"),
}
_EMPTY_CODE = re.compile(r"``(?!`)")


def text_problems(text: str) -> list[str]:
    """What makes a rendered text unfit for a user (empty list when it reads well)."""
    if not text.strip():
        return ["empty text"]
    found = [name for name, pattern in _PROBLEMS.items() if name in ("template error", "own text redacted") and pattern.search(text)]
    if _EMPTY_CODE.search(text.replace("```", "")):
        found.append("empty code span")
    bare = _QUOTED.sub("Q", text)
    found += [name for name, pattern in _PROBLEMS.items()
              if name not in ("template error", "own text redacted") and pattern.search(bare)]
    return found


def _variants(example: Example) -> Iterator[tuple[str, dict[str, Any]]]:
    data = {k: v for k, v in example.data.items() if k != "expect"}
    yield "as written", data
    present = [k for k in EVIDENCE_KEYS if data.get(k)]
    if len(present) > 1:
        for key in present:
            yield f"without {key}", {k: v for k, v in data.items() if k != key}
    for key in ("logs", "previous_logs"):
        lines = (data.get(key) or "").splitlines()
        if len(lines) < 2:
            continue
        for i, line in enumerate(lines[:MAX_LINES]):
            if line.strip():
                yield f"{key} without line {i + 1}", {**data, key: "\n".join(lines[:i] + lines[i + 1:]) + "\n"}


def _optional_sets(rule: Rule, bound: set[str]) -> list[tuple[str, ...]]:
    """Sets of names an `any:` holds without: a part's names when another part holds (or is `expr: "true"`)."""
    sets: list[tuple[str, ...]] = []
    spare: list[str] = []  # every name of the `any: [..., expr: "true"]` idiom: all of them can be missing at once
    for cond in walk(rule.when):
        if not isinstance(cond, AnyCond):
            continue
        parts = [tuple(c.bind for c in walk(p) if getattr(c, "bind", None)) for p in cond.parts]
        always = any(isinstance(p, ExprCond) and p.scope == "bindings" and p.expr.strip() == "true" for p in cond.parts)
        for i, names in enumerate(parts):
            holding = [set(other) for j, other in enumerate(parts) if j != i and set(other) & bound]
            others = any((other - set(names)) & bound for other in holding)
            # a name another holding part binds too stays bound: only the rest can be missing
            own = tuple(n for n in names if not any(n in other for other in holding))
            if own and set(own) & bound and (always or others):
                sets.append(own)
                spare += list(own) if always else []
    optional = tuple(dict.fromkeys(spare))
    return list(dict.fromkeys(sets)) + ([optional] if optional and optional not in sets else [])


def _render_all(rule: Rule, data: dict[str, Any], with_optional: bool) -> Iterator[tuple[str, Any]]:
    """The finding on this evidence, and with each set of optional bindings undefined (when the rule matches)."""
    evidence = example_evidence(Example("variant", data, True))
    conds = [c for c in rule.conditions() if isinstance(c, LogCond)]
    plan = ScanPlan(conds)
    ctx = Context(evidence, scan_all(plan, evidence, "auto"), {id(c): i for i, c in enumerate(conds)})
    ctx.unbound = {c.bind: None for c in rule.conditions() if getattr(c, "bind", None)}
    outcome = evaluate(rule.when, ctx, {})
    if not outcome.ok:
        return
    yield "", build_finding(rule, outcome, ctx)
    for names in _optional_sets(rule, set(outcome.bindings)) if with_optional else []:
        kept = {k: v for k, v in outcome.bindings.items() if k not in names}
        yield f", {'/'.join(names)} undefined", build_finding(rule, replace(outcome, bindings=kept), ctx)


CASES = [(rule, ex) for rule in RULES for ex in rule.examples if ex.should_match]


@pytest.mark.parametrize("rule,example", CASES, ids=[f"{r.id}:{e.name}" for r, e in CASES])
def test_texts_read_well_on_every_part_of_the_evidence(rule: Rule, example: Example) -> None:
    problems = []
    for label, data in _variants(example):
        for suffix, finding in _render_all(rule, data, label == "as written"):
            texts = [("title", finding.title), ("cause", finding.cause), ("fix", finding.fix)]
            texts += [(f"ruled_out {r.rule_id}", r.why) for r in finding.ruled_out]
            for name, text in texts:
                for problem in text_problems(text):
                    problems.append(f"{label}{suffix}: {name}: {problem}: {text}")
    assert not problems, "\n".join(dict.fromkeys(problems))


@pytest.mark.parametrize("text,problem", [
    ("[template error: 'x' is undefined]", "template error"),
    ("The limit is None GB.", "undefined"),
    ("It failed.. Fix it.", "doubled period"),
    ("It failed , then", "space before punctuation"),
    ("Raise the limit (), then", "empty parentheses"),
    ("Set `` to 3.", "empty code span"),
    ("It failed. . Then", "doubled period"),
    ("the pod ; then", "space before punctuation"),
    ("label it (`kubectl label node NODE KEY=***REDACTED-9ada3f***`)", "own text redacted"),
])
def test_the_checker_catches_each_problem(text: str, problem: str) -> None:
    assert problem in text_problems(text)


@pytest.mark.parametrize("text", [
    "`init()` failed in `run()` at score.py:9.",
    "Loaded from `/var/azureml-app/../model` (`KeyError: 'X'`).",
    "Wait... then retry.",
    "budget 10 + 3 × 10 = 40 s.",
])
def test_the_checker_accepts_good_text(text: str) -> None:
    assert text_problems(text) == []
