"""Python references of the C extension's functions (doctor/_native.c), for the property test (tests/test_scan.py)
and the AddressSanitizer fuzz (tests/security/native_fuzz.py)."""

from __future__ import annotations


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
