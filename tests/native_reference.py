"""Python references of the C extension's functions (doctor/_native.c), for the property test (tests/test_scan.py)
and the AddressSanitizer fuzz (tests/security/native_fuzz.py)."""

from __future__ import annotations

from typing import Any


def line_starts(data: bytes, texts: list[bytes], folds: list[bool], cap: int) -> list[list[int] | None]:
    """`_native.line_starts` in Python: per text, the starts of the lines (split at newlines) that hold it, lower-cased
    for a folded text; None past `cap` lines or for a text under two bytes; a text holding a newline is on no line."""
    starts, at = [], 0
    for line in data.split(b"\n"):
        starts.append((at, line))
        at += len(line) + 1
    out: list[list[int] | None] = []
    for text, fold in zip(texts, folds):
        lines = [start for start, line in starts if b"\n" not in text and text in (line.lower() if fold else line)]
        out.append(None if len(text) < 2 or len(lines) > cap else lines)
    return out


def settle_lines(rows: list[tuple[int, int, list[int], bytes]], number: int, memo: dict[bytes, Any],
                 found: dict[int, Any], one_off: bytes, max_text: int = -1) -> list[tuple[int, int, list[int], Any]]:
    """`_native.settle_lines` over the rows `unpack`ed hit lines give (start, relative number, ids, line): a line seen
    before as a whole (its memo entry's ids the same) takes its answer, any other keeps its place (None) and is
    returned with its number, as `HyperscanScanner._confirm` would take them. A line longer than `max_text` (packed
    without its bytes) is returned with its length instead, never looked up."""
    rest: list[tuple[int, int, list[int], Any]] = []
    for start, relative, ids, line in rows:
        if 0 <= max_text < len(line):
            found[start] = None
            rest.append((start, number + relative, ids, len(line)))
            continue
        entry = memo.get(line) if line[:1] == b"" or line[0] not in one_off else None
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], list) and entry[0] == ids:
            if entry[1]:
                found[start] = (number + relative, line, entry[1])
            continue
        found[start] = None
        rest.append((start, number + relative, ids, line))
    return rest
