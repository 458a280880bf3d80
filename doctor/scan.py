"""One pass over a log for all rule patterns: which lines match which patterns.

The scan works on blocks of whole lines (never line by line in Python): each pattern is searched
over the block, a hit is widened to its line, and the pattern is checked again on that line alone,
so a pattern can never match across a line end. Captures are taken from the per-line match.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from typing import BinaryIO, Callable, Iterable, Iterator, Protocol, Sequence

from doctor.guards import Guarded, GuardState, as_guarded, line_alone_guards
from doctor.linematch import (LineHit, block_matches, bounded, compile_line_pattern, line_alone_exact, line_matches,
                              line_searcher, nested_quantifier, required_texts)
from doctor.logs import count_newlines, iter_chunks

__all__ = ["LineHit", "ReScanner", "SCANNERS", "Scanner", "bounded", "compile_line_pattern", "default_engine",
           "line_matches", "make_scanner", "nested_quantifier", "resolve_engine"]


class Scanner(Protocol):
    """Finds, in one pass, the lines of a stream that match any of a fixed set of patterns."""

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order."""
        ...


class ReScanner:
    """The reference engine: Python `re` over blocks, then per-line confirmation.

    `first_only`: patterns whose first matching line in a stream is all its reader needs (a rule that asks
    whether a log has such a line at all); the scan reports that line and stops looking for them.
    `guarded` (`doctor.guards`): patterns searched only on the lines that follow their guards' lines."""

    def __init__(self, patterns: Sequence[str], first_only: Iterable[int] = (), prefilter: bool = True,
                 guarded: Guarded | None = None) -> None:
        self.patterns = [compile_line_pattern(p) for p in patterns]
        self.guarded, self.guard_of = line_alone_guards(guarded, patterns)
        self.risky = {i for i, p in enumerate(patterns) if nested_quantifier(p)}  # searched under a time bound
        self.first_only = frozenset(first_only)
        # a block with none of a pattern's required texts has no match of it: `in` (memchr speed) skips the search
        self.texts = [required_texts(p) for p in patterns] if prefilter else [None] * len(patterns)
        # or, where the C extension was built, one pass for all the distinct texts (`_native.line_starts`)
        distinct: dict[tuple[bytes, bool], int] = {}
        self.text_ids = [None if required is None else [distinct.setdefault((text, required[1]), len(distinct))
                                                         for text in required[0]] for required in self.texts]
        self.all_texts = ([text for text, _ in distinct], [fold for _, fold in distinct])
        self.line_alone = [line_alone_exact(p) for p in patterns]  # may be searched on its candidate lines alone

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order (a `first_only` pattern: its first line only)."""
        first_line = 1
        seen: set[int] = set()  # first_only patterns already reported in this stream
        guards = GuardState(self.guarded) if self.guarded else None
        for block in iter_chunks(stream):
            yield from self._scan_block(block, first_line, seen, guards)
            first_line += count_newlines(block, 0, len(block))

    def _scan_block(self, block: bytes, first_line: int, seen: set[int],
                    guards: GuardState | None = None) -> Iterator[LineHit]:
        found: dict[int, list[tuple[int, re.Match[bytes]]]] = {}
        lowered: bytes | None = None  # the block lower-cased, for the required texts of patterns that ignore case
        # where the C extension was built: the lines that hold each required text, when they are few (None: many)
        starts = _line_starts(block, *self.all_texts, len(block) >> LINE_SEARCH_SHIFT) \
            if _line_starts is not None and self.all_texts[0] else None
        # which texts the block holds (on too many lines to list counts as held)
        present = [lines is None or len(lines) > 0 for lines in starts] if starts is not None else None
        for index, pattern in enumerate(self.patterns):
            once = index in self.first_only
            if once and index in seen or index in self.guarded:
                continue
            ids = self.text_ids[index]
            if starts is not None and ids is not None and self.line_alone[index]:
                lines = [starts[i] for i in ids]
                if None not in lines:  # few lines hold its texts: `re` on those lines alone, not over the block
                    self._search_lines(index, pattern, block, lines, once, found, seen)  # type: ignore[arg-type]
                    continue
            if present is not None and ids is not None:
                if not any(present[i] for i in ids):
                    continue
            elif (required := self.texts[index]) is not None:
                texts, fold = required
                if fold and lowered is None:
                    lowered = block.lower()
                if not any(text in (lowered if fold else block) for text in texts):
                    continue
            for start, match in block_matches(pattern, block, 1 if once else None, index in self.risky):
                found.setdefault(start, []).append((index, match))
                if once:
                    seen.add(index)
        if guards is not None:
            self._search_guarded(block, first_line, found, guards)
        yield from _numbered(block, first_line, found)

    def _search_guarded(self, block: bytes, first_line: int, found: dict[int, list[tuple[int, re.Match[bytes]]]],
                        guards: GuardState) -> None:
        """Each guarded pattern on the lines after its guards' lines (`doctor.guards`)."""
        guard_lines: dict[int, list[tuple[int, int]]] = {}
        number, counted_to = first_line, 0
        for start in sorted(found):
            marks = [index for index, _ in found[start] if index in self.guard_of]
            if marks:
                number += block.count(b"\n", counted_to, start)
                counted_to = start
                for index in marks:
                    guard_lines.setdefault(index, []).append((number, start))
        for index, parts in guards.regions(block, len(block), first_line, guard_lines).items():
            for lo, hi, _ in parts:
                for start, match in block_matches(self.patterns[index], block[lo:hi], None, index in self.risky):
                    found.setdefault(lo + start, []).append((index, match))

    def _search_lines(self, index: int, pattern: re.Pattern[bytes], block: bytes, lines: list[list[int]], once: bool,
                      found: dict[int, list[tuple[int, re.Match[bytes]]]], seen: set[int]) -> None:
        """The pattern on each line that holds one of its required texts (`lines`: per text, their starts): a line
        it matches holds one (`required_texts`), so no other line can match. Each line is searched alone, as the
        fast engine confirms a line (under the time bound when the pattern is risky)."""
        search = line_searcher(pattern, index in self.risky)
        candidates = lines[0] if len(lines) == 1 else sorted(set().union(*lines))
        for start in candidates:
            stop = block.find(b"\n", start)
            match = search(block[start:stop if stop >= 0 else len(block)])
            if match is not None:
                found.setdefault(start, []).append((index, match))
                if once:
                    seen.add(index)
                    return


try:  # which required texts a block holds, and on which lines, in one pass in C (setup.py builds it where a C
    # compiler is found)
    from doctor._native import line_starts as _line_starts
except ImportError:
    _line_starts = None
# A pattern whose required texts are on at most a block's bytes >> this many lines is searched on those lines alone
# (~1 per KB: a 4 MB block's 4,096 line searches cost about what one search over the block does).
LINE_SEARCH_SHIFT = 10


def _numbered(block: bytes, first_line: int, found: dict[int, list[tuple[int, re.Match[bytes]]]]) -> Iterator[LineHit]:
    number, counted_to = first_line, 0
    for start in sorted(found):
        number += block.count(b"\n", counted_to, start)
        counted_to = start
        stop = block.find(b"\n", start)
        line = block[start: stop if stop >= 0 else len(block)]
        matches = sorted(found[start], key=lambda m: m[0])
        yield LineHit(number, line, tuple(matches))


def _hyperscan(patterns: Sequence[str], first_only: Iterable[int] = (), guarded: Guarded | None = None) -> Scanner:
    from doctor.scan_hs import HyperscanScanner  # imported only when used: hyperscan is optional

    return HyperscanScanner(patterns, first_only, guarded)


SCANNERS: dict[str, Callable[..., Scanner]] = {"re": ReScanner, "hyperscan": _hyperscan}
ENGINE_ENV = "MLDOCTOR_SCAN_ENGINE"


def default_engine() -> str:
    """`auto` unless MLDOCTOR_SCAN_ENGINE names an engine (re, hyperscan)."""
    return os.environ.get(ENGINE_ENV, "auto") or "auto"


def resolve_engine(engine: str = "auto") -> str:
    """The engine `make_scanner` uses for `engine`: `auto` is hyperscan when installed, else re (pure Python)."""
    if engine == "auto":
        engine = default_engine()
    if engine == "auto":
        engine = "hyperscan" if importlib.util.find_spec("hyperscan") is not None else "re"
    return engine


def make_scanner(patterns: Sequence[str], engine: str = "auto", first_only: Iterable[int] = (),
                 guarded: tuple[tuple[int, tuple[int, ...], int], ...] = ()) -> Scanner:
    """The fastest scanner available for these patterns (`auto`: hyperscan when installed), or the one named.
    `first_only`: positions of patterns for which only the first matching line of each stream is reported.
    `guarded`: (position, its guards' positions, lines) of patterns searched only on the lines after a guard's line
    (`doctor.guards`)."""
    engine = resolve_engine(engine)
    if engine not in SCANNERS:
        raise ValueError(f"unknown scan engine {engine!r} (use one of: auto, {', '.join(SCANNERS)})")
    return _built(engine, tuple(patterns), frozenset(first_only), tuple(guarded))


@functools.lru_cache(maxsize=8)
def _built(engine: str, patterns: tuple[str, ...], first_only: frozenset[int],
           guarded: tuple[tuple[int, tuple[int, ...], int], ...] = ()) -> Scanner:
    """One compiled scanner per pattern set: a namespace check reuses it for every workload."""
    return SCANNERS[engine](patterns, first_only, guarded=as_guarded(guarded))
