"""`mldoctor rules lint` on bad rule files: dialect problems, slow patterns, and patterns that could hang a scan."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest

from doctor.errors import RuleError
from doctor.rules.loader import builtin_rules_dir
from doctor.scan import make_scanner

RULE = """id: {id}
title: t
severity: warning
cause: c
fix: f
when:
  log: {{pattern: '{pattern}'}}
examples:
  match: [{{name: m, logs: "x"}}]
  no_match: [{{name: n, logs: "y"}}]
"""

# pattern -> what lint must say about it (a part of the message), and whether it is an error
BAD = {
    r"(a+)+$": ("nests quantifiers", True),
    r"(\w+\s?)+=": ("nests quantifiers", True),
    r"(?>a+)+b": ("nests quantifiers", True),  # an atomic group's body is walked too (it raised TypeError before)
    r"timeout\Z": ("\\A, \\Z or \\z", False),
    r"\AWORKER": ("\\A, \\Z or \\z", False),
    r"x*": ("empty string", False),
    r"(?:error)?": ("empty string", False),
    r" 200 ": ("matches most lines", False),
    r"\d{4}-\d\d-\d\d": ("matches most lines", False),
    r"(?<=pid )\d+": ("look-around", False),
    r"(\w+) \1 failed": ("back-reference", False),
    r"(?P<gpus>\d) ?[x×] ?A100": ("in a character class", True),  # never matches `8 × A100`
    r"caf[éè] failed": ("in a character class", True),
    # tried at every byte without hyperscan (the published-port pattern that made 64 MB of uvicorn lines 1.8 s slower)
    r"(?:^|\s)-p\s+(?P<hport>\d{2,5}):(?P<cport>\d{2,5})": ("no fixed text", False),
    r"\d+ms": ("no fixed text", False),
}


def write_rule(tmp_path: Path, name: str, pattern: str) -> Path:
    """One rule file with this log pattern (examples present, so only the pattern is at fault)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(RULE.format(id=name, pattern=pattern.replace("'", "''")), encoding="utf-8")
    return path


@pytest.mark.parametrize("pattern", list(BAD), ids=list(BAD))
def test_lint_flags_bad_pattern(pattern: str, tmp_path: Path, cli: Any) -> None:
    expected, is_error = BAD[pattern]
    run = cli("rules", "lint", str(write_rule(tmp_path, "bad", pattern)))
    flagged = [line for line in run.out.splitlines() if expected in line]
    assert flagged, run.out
    assert all((": warning: " not in line) == is_error for line in flagged)
    assert run.code == (2 if is_error else 0)


@pytest.mark.parametrize("pattern", [r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)", r"(?:[A-Za-z_]\w*\.)*\w+Error: (.*)",
                                     r"Booting worker with pid:? (\d+)", r"(?P<gpus>\d) ?(?:x|×) ?A100",
                                     r"[\x80-\xff]{4} failed", r"-p\s+(?P<hport>\d{2,5}):(?P<cport>\d{2,5})",
                                     r"^E\d{4} \d\d:\d\d"])
def test_lint_passes_good_pattern(pattern: str, tmp_path: Path, cli: Any) -> None:
    run = cli("rules", "lint", str(write_rule(tmp_path, "good", pattern)))
    assert run.code == 0 and run.out == "", run.out


def test_builtin_rules_lint_clean(cli: Any) -> None:
    run = cli("rules", "lint", str(builtin_rules_dir()))
    assert run.code == 0 and run.out == "", run.out


HOSTILE = b"2026-11-25 15:31:27 ok\n" + b"a" * 50000 + b"!\n" + b"aaaa\n"


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(?=a)(a+)+$", r"(a+)+b|(?<=x)y"])
def test_hostile_line_does_not_hang_scan(pattern: str) -> None:
    """A hang check, not a speed test: naive `re` takes minutes-to-forever here."""
    scanner = make_scanner([pattern], "auto")
    start = time.monotonic()
    try:
        hits = [h.number for h in scanner.scan(io.BytesIO(HOSTILE))]
        assert hits == ([3] if "$" in pattern else [])
    except RuleError as err:
        assert "catastrophic backtracking" in str(err)
        assert re.search(r" on \d+ bytes ", str(err)), str(err)  # the size searched, not a template left unfilled
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(?=a)(a+)+$"])
def test_hostile_line_does_not_hang_check(pattern: str, tmp_path: Path, cli: Any) -> None:
    """`mldoctor check` with a user rule that backtracks for ever on one log line ends (a hang check)."""
    import shutil

    from conftest import FIXTURES

    bundle = tmp_path / "bundle"
    shutil.copytree(FIXTURES / "bundles" / "docker-healthy", bundle)
    log, = bundle.glob("docker/*/logs.txt")
    log.write_bytes(log.read_bytes() + HOSTILE)
    start = time.monotonic()
    run = cli("check", str(bundle), "--rules", str(write_rule(tmp_path, "hostile", pattern)), "--format", "json")
    assert time.monotonic() - start < 20
    assert run.code in (0, 1) or "catastrophic backtracking" in run.err, run.err


def test_lint_flags_an_optional_among_the_parts_of_an_any(tmp_path: Path, cli: Any) -> None:
    """`any: [A, optional: B]` always holds (an optional always does), so the rule matches every bundle: an error."""
    rule = RULE.format(id="always", pattern="x").replace(
        "when:\n  log: {pattern: 'x'}",
        "when:\n  any:\n    - log: {pattern: 'x'}\n    - optional:\n        log: {pattern: 'z'}")
    path = tmp_path / "always.yaml"
    path.write_text(rule, encoding="utf-8")
    run = cli("rules", "lint", str(path))
    assert run.code == 2 and "optional-in-any" in run.out, run.out
    path.write_text(rule.replace("  any:\n", "  all:\n"), encoding="utf-8")
    assert "optional-in-any" not in cli("rules", "lint", str(path)).out


def test_a_key_written_twice_in_a_rule_file_is_refused(tmp_path: Path, cli: Any) -> None:
    """An example spliced into another keeps two `logs:` keys; YAML loaders silently keep the last one, so the example
    would test other text than it names. The rule file is refused, naming the key and its line."""
    rule = RULE.format(id="twice", pattern="a").replace('match: [{name: m, logs: "x"}]',
                                                         'match:\n    - name: m\n      logs: "x"\n      logs: "a"')
    path = tmp_path / "twice.yaml"
    path.write_text(rule, encoding="utf-8")
    run = cli("rules", "lint", str(path))
    assert run.code == 2 and "key `logs` written twice" in run.out and "twice.yaml:12" in run.out, run.out
