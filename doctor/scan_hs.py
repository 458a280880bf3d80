"""The fast engine: hyperscan finds which patterns hit which lines, `re` then reads captures on those lines only.

Hyperscan runs in block mode over each block of whole lines, split at a newline into two halves that
are scanned in two threads (hyperscan releases the GIL), while the previous block's hits are turned
into `LineHit`s. It reports every end offset of every match; an end is mapped to its line and the
pattern is confirmed on that line alone with `re`, so results equal the reference `ReScanner`'s.
Patterns hyperscan cannot take (look-around, back-references, `\\A`/`\\Z`, empty matches) are scanned
with `re`, just those, in the same pass.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, Iterator, Sequence

import hyperscan

from doctor.logs import iter_blocks
from doctor.scan import LineHit, compile_line_pattern, line_matches

Found = dict[int, list[tuple[int, "re.Match[bytes]"]]]

# Anchors whose meaning differs between a block and a line: only `re` on the line is exact.
_BLOCK_ANCHORS = re.compile(r"(?<!\\)(?:\\\\)*\\[AZz]")
# A trailing `.*` (maybe in a group) adds nothing to "does this line match" but one report per byte.
_TRAILING_ANY = re.compile(r"(?:\(\?P<\w+>\.\*\)|\(\?:\.\*\)|\(\.\*\)|(?<!\\)\.\*)$")
THREADS = 2


def hs_expression(pattern: str) -> bytes | None:
    """The prefilter hyperscan runs for a rule pattern; None when only `re` is exact for it."""
    if _BLOCK_ANCHORS.search(pattern):
        return None
    return _TRAILING_ANY.sub("", pattern).encode("utf-8")


def compile_database(expressions: Sequence[bytes]) -> Any:
    """A block-mode hyperscan database, one id per expression (ids are positions)."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
               elements=len(expressions), flags=[hyperscan.HS_FLAG_MULTILINE] * len(expressions))
    return db


def accepts(expression: bytes) -> bool:
    """Whether hyperscan compiles this expression on its own."""
    try:
        compile_database([expression])
    except hyperscan.error:
        return False
    return True


class HyperscanScanner:
    """Hyperscan over blocks in two threads for the patterns it takes, `re` for the rest."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [compile_line_pattern(p) for p in patterns]
        fast: list[tuple[int, bytes]] = []
        for index, pattern in enumerate(patterns):
            expr = hs_expression(pattern)
            if expr and accepts(expr):
                fast.append((index, expr))
        self.fast_ids = [index for index, _ in fast]
        fast_set = set(self.fast_ids)
        self.slow_ids = [i for i in range(len(patterns)) if i not in fast_set]
        self.db = compile_database([expr for _, expr in fast]) if fast else None
        self.scratch = hyperscan.Scratch(self.db) if self.db else None
        self.local = threading.local()  # one scratch per scanning thread

    def scan(self, stream: BinaryIO) -> Iterator[LineHit]:
        """Hits in line order."""
        first_line = 1
        with ThreadPoolExecutor(THREADS) as pool:
            pending: tuple[memoryview, list[Future[list[int]]]] | None = None
            for block in iter_blocks(stream, buffers=2):
                submitted = (block, self._submit(pool, block))
                if pending is not None:
                    first_line = yield from self._finish(*pending, first_line)
                pending = submitted
            if pending is not None:
                yield from self._finish(*pending, first_line)

    def _submit(self, pool: ThreadPoolExecutor, block: memoryview) -> list[Future[list[int]]]:
        if self.db is None:
            return []
        data: Any = block.obj
        middle = data.find(b"\n", len(block) // 2, len(block) - 1) if len(block) > 1 << 16 else -1
        if middle < 0:
            return [pool.submit(self._scan_part, block, 0)]
        return [pool.submit(self._scan_part, block[: middle + 1], 0),
                pool.submit(self._scan_part, block[middle + 1:], middle + 1)]

    def _scan_part(self, part: memoryview, base: int) -> list[int]:
        """Match reports as a flat list: id, absolute end, id, end, ..."""
        reports: list[int] = []
        add = reports.extend

        def on_match(id_: int, start: int, end: int, flags: int, context: Any) -> None:
            add((id_, base + end))

        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = self.scratch.clone()
        self.db.scan(part, match_event_handler=on_match, scratch=scratch)
        return reports

    def _finish(self, block: memoryview, futures: list[Future[list[int]]], first_line: int) -> Iterator[LineHit]:
        """The block's hits in line order; returns the number of the next block's first line."""
        data: Any = block.obj
        found: Found = {}
        for future in futures:
            self._confirm(block, future.result(), found)
        if self.slow_ids:
            whole = bytes(block)
            for index in self.slow_ids:
                for start, match in line_matches(self.patterns[index], whole):
                    found.setdefault(start, []).append((index, match))
        number, counted_to = first_line, 0
        for start in sorted(found):
            number += data.count(b"\n", counted_to, start)
            counted_to = start
            stop = data.find(b"\n", start, len(block))
            yield LineHit(number, bytes(block[start:stop]), tuple(sorted(found[start], key=_first)))
        return number + data.count(b"\n", counted_to, len(block))

    def _confirm(self, block: memoryview, reports: list[int], found: Found) -> None:
        """Map each report to its line; check each (line, pattern) once with `re` on the line alone."""
        data: Any = block.obj
        seen: set[tuple[int, int]] = set()
        lines: dict[int, bytes] = {}
        for k in range(0, len(reports), 2):
            id_, end = reports[k], reports[k + 1]
            for start in _line_starts(data, end, len(block)):
                if (start, id_) in seen:
                    continue
                seen.add((start, id_))
                line = lines.get(start)
                if line is None:
                    line = lines[start] = bytes(block[start:data.find(b"\n", start, len(block))])
                index = self.fast_ids[id_]
                match = self.patterns[index].search(line)
                if match is not None:
                    found.setdefault(start, []).append((index, match))


def _line_starts(data: Any, end: int, length: int) -> tuple[int, ...]:
    """The line a match ending at `end` lies in; after a newline also the next line (an empty match there)."""
    if end == 0:
        return (0,)
    start = data.rfind(b"\n", 0, end - 1) + 1
    if data[end - 1] == 10 and end < length:
        return (start, end)
    return (start,)


def _first(item: tuple[int, re.Match[bytes]]) -> int:
    return item[0]
