"""Guarded patterns: searched only on the lines that follow one of their guard patterns' lines.

A log condition with `only_after: {pattern: G, lines: N}` counts a line of its pattern P only when a line of G came
at most N lines before it (the same line included). When every use of P is such a condition (and none of them has an
`unless_after`, which counts the lines it discounts), a line of P outside those N lines changes nothing in any
aggregate: the scanners search P on those lines only, not over the whole log. The scan of P stops costing anything on
a log without G: conda's `  - spec` lines under `ResolvePackageNotFound:` have only `- ` as a fixed text, which an
access log holds twice a line (hyperscan spent ~20 % of its scan of an access log verifying it).

The regions are whole lines, so a pattern that is exact on a line alone (`line_alone_exact`: no block anchor, no
look-around) finds on them exactly the lines a search over the block finds there.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from doctor.linematch import line_alone_exact

# per guarded pattern: (its guard patterns, how many lines after a guard's line it is searched)
Guarded = Mapping[int, tuple[frozenset[int], int]]


def guarded_spec(entries: Iterable[tuple[int, Iterable[int], int]]) -> tuple[tuple[int, tuple[int, ...], int], ...]:
    """A hashable form of (pattern, guards, lines) entries (for a scanner cache key)."""
    return tuple(sorted((pattern, tuple(sorted(guards)), lines) for pattern, guards, lines in entries))


def as_guarded(spec: Iterable[tuple[int, Iterable[int], int]]) -> dict[int, tuple[frozenset[int], int]]:
    return {pattern: (frozenset(guards), lines) for pattern, guards, lines in spec}


def line_alone_guards(guarded: Guarded | None, patterns: Sequence[str]) -> tuple[dict[int, tuple[frozenset[int], int]],
                                                                                  set[int]]:
    """The guarded patterns a scanner may search on regions (those exact on a line alone: `line_alone_exact`; the
    others are searched as if unguarded), and the set of their guard patterns."""
    kept = {index: spec for index, spec in (guarded or {}).items() if line_alone_exact(patterns[index])}
    return kept, {guard for guards, _ in kept.values() for guard in guards}


class GuardState:
    """Per stream: through which line number each guarded pattern is still to be searched (a guard near a block's
    end reaches into the next block)."""

    def __init__(self, guarded: Guarded) -> None:
        self.guarded = guarded
        self.until: dict[int, int] = {}

    def carried(self, first_line: int) -> bool:
        """Whether a region of an earlier block reaches the block starting at this line."""
        return any(until >= first_line for until in self.until.values())

    def regions(self, block: Any, size: int, first_line: int,
                guard_lines: Mapping[int, list[tuple[int, int]]]) -> dict[int, list[tuple[int, int, int]]]:
        """Per guarded pattern, the parts of block[:size] to search it in: (start offset, end offset, number of the
        part's first line), in order and disjoint. `guard_lines`: per guard pattern, its lines in this block as
        (number, start offset)."""
        out: dict[int, list[tuple[int, int, int]]] = {}
        for pattern, (guards, lines) in self.guarded.items():
            spans: list[tuple[int, int, int]] = []  # (first number, last number, start offset of the first)
            carried = self.until.get(pattern, 0)
            if carried >= first_line:
                spans.append((first_line, carried, 0))
            starts = sorted(hit for guard in guards for hit in guard_lines.get(guard, ()))
            for number, start in starts:
                last = number + lines
                if spans and number <= spans[-1][1] + 1:  # overlaps or touches the span before: one span
                    if last > spans[-1][1]:
                        spans[-1] = (spans[-1][0], last, spans[-1][2])
                else:
                    spans.append((number, last, start))
            if not spans:
                continue
            self.until[pattern] = spans[-1][1]
            out[pattern] = [(start, _end_of(block, size, start, last - first + 1), first) for first, last, start in spans]
        return out


def _end_of(block: Any, size: int, start: int, count: int) -> int:
    """The offset just past the `count`-th line from `start` (its newline included), or `size` (the block's end)."""
    pos = start
    for _ in range(count):
        stop = block.find(b"\n", pos, size)
        if stop < 0:
            return size
        pos = stop + 1
    return pos
