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
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, Protocol, Sequence

from doctor.logs import iter_chunks


@dataclass(frozen=True, slots=True)
class LineHit:
    """A line that matched one or more patterns: its 1-based number, bytes, and (pattern index, match)."""

    number: int
    line: bytes
    matches: tuple[tuple[int, re.Match[bytes]], ...]


class Scanner(Protocol):
    """Finds, in one pass, the lines of a stream that match any of a fixed set of patterns."""

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order."""
        ...


def compile_line_pattern(pattern: str) -> re.Pattern[bytes]:
    """A rule pattern compiled for matching against one line's bytes (`^`/`$` per line)."""
    return re.compile(pattern.encode("utf-8"), re.MULTILINE)


class ReScanner:
    """The reference engine: Python `re` over blocks, then per-line confirmation."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [compile_line_pattern(p) for p in patterns]

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order."""
        first_line = 1
        for block in iter_chunks(stream):
            yield from self._scan_block(block, first_line)
            first_line += block.count(b"\n")

    def _scan_block(self, block: bytes, first_line: int) -> Iterator[LineHit]:
        found: dict[int, list[tuple[int, re.Match[bytes]]]] = {}
        for index, pattern in enumerate(self.patterns):
            for start, match in line_matches(pattern, block):
                found.setdefault(start, []).append((index, match))
        yield from _numbered(block, first_line, found)


def line_matches(pattern: re.Pattern[bytes], block: bytes) -> Iterator[tuple[int, re.Match[bytes]]]:
    """(line start, per-line match) for every line of the block the pattern matches."""
    pos = 0
    end = len(block)
    while pos < end:
        hit = pattern.search(block, pos)
        if hit is None or (hit.start() == end and block.endswith(b"\n")):
            return  # an empty match after the block's last newline is not a line
        start = block.rfind(b"\n", 0, hit.start()) + 1
        stop = block.find(b"\n", hit.start())
        stop = end if stop < 0 else stop
        if hit.end() <= stop:
            yield start, hit  # already inside one line: its groups are the line's groups
        else:
            line_match = pattern.search(block[start:stop])  # the hit crossed a line end: re-check the line
            if line_match is not None:
                yield start, line_match
        pos = stop + 1


def _numbered(block: bytes, first_line: int, found: dict[int, list[tuple[int, re.Match[bytes]]]]) -> Iterator[LineHit]:
    number, counted_to = first_line, 0
    for start in sorted(found):
        number += block.count(b"\n", counted_to, start)
        counted_to = start
        stop = block.find(b"\n", start)
        line = block[start: stop if stop >= 0 else len(block)]
        matches = sorted(found[start], key=lambda m: m[0])
        yield LineHit(number, line, tuple(matches))


def match_groups(match: re.Match[bytes], line: bytes) -> dict[str, str]:
    """Named groups of a match as text; a match found on the block is re-based to its line."""
    return {k: v.decode("utf-8", "replace") for k, v in match.groupdict().items() if v is not None}


def _hyperscan(patterns: Sequence[str]) -> Scanner:
    from doctor.scan_hs import HyperscanScanner  # imported only when used: hyperscan is optional

    return HyperscanScanner(patterns)


SCANNERS: dict[str, Callable[[Sequence[str]], Scanner]] = {"re": ReScanner, "hyperscan": _hyperscan}
ENGINE_ENV = "MLDOCTOR_SCAN_ENGINE"


def default_engine() -> str:
    """`auto` unless MLDOCTOR_SCAN_ENGINE names an engine (re, hyperscan)."""
    return os.environ.get(ENGINE_ENV, "auto") or "auto"


def make_scanner(patterns: Sequence[str], engine: str = "auto") -> Scanner:
    """The fastest scanner available for these patterns (`auto`: hyperscan when installed), or the one named."""
    if engine == "auto":
        engine = default_engine()
    if engine == "auto":
        engine = "hyperscan" if importlib.util.find_spec("hyperscan") is not None else "re"
    if engine not in SCANNERS:
        raise ValueError(f"unknown scan engine {engine!r} (use one of: auto, {', '.join(SCANNERS)})")
    return _built(engine, tuple(patterns))


@functools.lru_cache(maxsize=8)
def _built(engine: str, patterns: tuple[str, ...]) -> Scanner:
    """One compiled scanner per pattern set: a namespace check reuses it for every workload."""
    return SCANNERS[engine](patterns)  # type: ignore[no-any-return]
