"""`mldoctor rules lint`: typed issues (code, severity, location, message), one small check class per issue.

A rule file that does not load is one `load-error` issue; a rule that loads is checked for what is likely a
mistake: no examples, and log patterns that leave the dialect a block scanner honours or risk slow matching.
Errors make `rules lint` exit 2; warnings are shown.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from doctor.errors import RuleError
from doctor.evidence import Severity
from doctor.linematch import BLOCK_ANCHORS, LOOK_AROUND, MIN_LITERAL, parsed_children, required_texts, starts_findable
from doctor.rules.loader import load_file, rule_files
from doctor.rules.model import AnyCond, LogCond, OptionalCond, Rule


@dataclass(frozen=True)
class LintIssue:
    """One problem: which check found it, how bad, where (`file:line`), and what to do."""

    code: str
    severity: Severity
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity.value}: {self.message} [{self.code}]"


# Lines every serving log is full of: a rule pattern matching most of them runs on every request line.
COMMON_LINES = (
    '10.0.3.7 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 200 512 "-" "python-requests/2.31.0"',
    '127.0.0.1 - - [25/Nov/2026:15:31:28 +0000] "GET / HTTP/1.1" 200 7 "-" "kube-probe/1.29"',
    "2026-11-25 15:31:27,120 I [31] azmlinfsrv - POST /score 200 3.104ms 512",
    "2026-11-25 15:31:27,220 I [32] azmlinfsrv - GET / 200 0.412ms 7",
    "2026-11-25T15:31:27.123456789Z 2026-11-25 15:31:27,320 I [33] azmlinfsrv - POST /score 200 12.9ms 88",
    'INFO:     10.0.1.4:51234 - "POST /score HTTP/1.1" 200 OK',
    "2026-11-25 15:31:28,001 | root | INFO | 200",
    "2026-11-25 15:31:28,002 | root | INFO | Scoring request received",
    "[2026-11-25 15:31:28 +0000] [31] [INFO] Handling signal: winch",
    "2026-11-25 15:31:29,500 I [1] azmlinfsrv - Request took 4.1 ms",
)


class PatternCheck:
    """A check of one log pattern; subclasses set `code`, `severity` and `problem` (None when it is fine)."""

    code = ""
    severity = Severity.WARNING

    def problem(self, pattern: str) -> str | None:
        """What is wrong with the pattern, or None."""
        raise NotImplementedError


class RegexFeature(PatternCheck):
    """A regex feature the block scanner cannot run, matched by `found`."""

    found = re.compile("(?!)")
    what = ""

    def problem(self, pattern: str) -> str | None:
        return f"pattern {pattern!r} {self.what}" if self.found.search(pattern) else None


class BackReference(RegexFeature):
    code, found = "back-reference", re.compile(r"\\[1-9]|\(\?P=")
    what = "uses a back-reference: forces the slow path (Python re over every block)"


class LookAround(RegexFeature):
    code, found = "look-around", LOOK_AROUND
    what = "uses look-around: forces the slow path (Python re over every block)"


class BlockAnchor(RegexFeature):
    code, found = "block-anchor", BLOCK_ANCHORS
    what = "uses \\A, \\Z or \\z: use ^ and $ (each line is matched on its own)"


class MatchesEmpty(PatternCheck):
    """A pattern that matches the empty string matches every line."""

    code = "matches-empty"

    def problem(self, pattern: str) -> str | None:
        if re.compile(pattern, re.MULTILINE).search("") is not None:
            return f"pattern {pattern!r} can match the empty string: it matches every line and forces the slow path"
        return None


class MatchesCommonLines(PatternCheck):
    """A pattern matching most ordinary serving-log lines runs on every request."""

    code = "matches-common-lines"

    def problem(self, pattern: str) -> str | None:
        compiled = re.compile(pattern, re.MULTILINE)
        hits = sum(1 for line in COMMON_LINES if compiled.search(line))
        if hits * 2 > len(COMMON_LINES):
            return (f"pattern {pattern!r} matches most lines ({hits} of {len(COMMON_LINES)} common serving-log "
                    "lines): slows every scan; use a traffic condition instead")
        return None


class NegatedClass(PatternCheck):
    """`[^x]` without `\\n` can run past a line end in a block."""

    code = "negated-class"

    def problem(self, pattern: str) -> str | None:
        if re.search(r"\[\^[^\]]*\]", pattern) and "\\n" not in pattern:
            return f"pattern {pattern!r} has a negated class without \\n: it could span lines in a block scan"
        return None


class NonAsciiInClass(PatternCheck):
    """Log lines are matched as bytes: a character class holding `×` or `é` holds each of its UTF-8 bytes, one at a
    time, and never matches the character itself."""

    code = "non-ascii-in-class"
    severity = Severity.ERROR

    def problem(self, pattern: str) -> str | None:
        wide = sorted({char for char in pattern if ord(char) > 127})
        if not wide:  # (a class of bytes written as escapes, `[\x80-\xff]`, is meant)
            return None
        try:
            parsed = _parser.parse(pattern.encode("utf-8"))  # as the scan compiles it
        except (re.error, RecursionError):
            return None
        if any(value > 127 for value in _class_codes(parsed)):
            return (f"pattern {pattern!r} puts {', '.join(wide)} in a character class: lines are matched as bytes, "
                    "so the class holds each UTF-8 byte of it instead; write an alternation, e.g. (?:x|×)")
        return None


class NoFixedText(PatternCheck):
    """Without hyperscan, the scan finds a pattern's candidate lines by a text every match contains, or `re` finds
    them by the literal the pattern starts with or by line starts (`^`). A pattern with none of these is tried by
    `re` at every byte of every block: `(?:^|\\s)-p\\s+…` cost 1.8 s of a 2.9 s check of 64 MB (bench/README.md)."""

    code = "no-fixed-text"

    def problem(self, pattern: str) -> str | None:
        if required_texts(pattern) is not None or starts_findable(pattern):
            return None
        return (f"pattern {pattern!r} has no fixed text of {MIN_LITERAL}+ characters and does not start with a literal "
                "or `^`: without hyperscan, `re` tries it at every byte of the log; start it with its literal part")


def _class_codes(items: object) -> Iterable[int]:
    """Every code point a character class of the parsed pattern names (each end of a range)."""
    for op, av in items:  # type: ignore[attr-defined]
        if op is sre.IN:
            for kind, value in av:
                if kind is sre.LITERAL:
                    yield value
                elif kind is sre.RANGE:
                    yield from value
        for sub in parsed_children(op, av):
            yield from _class_codes(sub)


# (a pattern that can backtrack for ever does not load at all: `rules lint` shows it as a load-error)
PATTERN_CHECKS: tuple[PatternCheck, ...] = (BackReference(), LookAround(), BlockAnchor(), MatchesEmpty(),
                                            MatchesCommonLines(), NegatedClass(), NonAsciiInClass(), NoFixedText())


def pattern_issues(pattern: str, where: str) -> list[LintIssue]:
    """Every check's issue with one log pattern."""
    return [LintIssue(check.code, check.severity, where, message) for check in PATTERN_CHECKS
            if (message := check.problem(pattern))]


def rule_issues(rule: Rule) -> list[LintIssue]:
    """What loads but is likely a mistake in one rule: missing examples, risky log patterns."""
    issues = []
    if not any(e.should_match for e in rule.examples):
        issues.append(LintIssue("no-match-example", Severity.WARNING, rule.where,
                                "no matching example (add examples.match so `rules test` can check the rule)"))
    if not any(not e.should_match for e in rule.examples):
        issues.append(LintIssue("no-no-match-example", Severity.WARNING, rule.where,
                                "no non-matching example (add examples.no_match)"))
    for cond in rule.conditions():
        if isinstance(cond, LogCond):
            for pattern in cond.patterns:
                issues.extend(pattern_issues(pattern, rule.where))
        if isinstance(cond, AnyCond) and any(isinstance(part, OptionalCond) for part in cond.parts):
            issues.append(LintIssue("optional-in-any", Severity.ERROR, rule.where,
                                    "an `optional:` among the parts of an `any:` always holds, so the `any:` always "
                                    "holds: put the optional beside the `any:`, under an `all:`"))
    return issues


def lint_paths(paths: Iterable[Path]) -> list[LintIssue]:
    """Every issue in the rule files (empty when all is well); a file that does not load is one `load-error`."""
    issues: list[LintIssue] = []
    for file in rule_files(list(paths)):
        try:
            rules = load_file(file)
        except RuleError as err:
            issues.append(LintIssue("load-error", Severity.ERROR, err.where or str(file), err.message))
            continue
        if len(rules) > 1:
            issues.append(LintIssue("several-rules", Severity.WARNING, str(file),
                                    f"{len(rules)} rules in one file: give each its own file, named after its id"))
        for rule in rules:
            issues.extend(rule_issues(rule))
    return issues
