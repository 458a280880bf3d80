"""Random hostile blocks through the C extension (doctor/_native.c), for tests/security/test_native_asan.py.

Usage: python native_fuzz.py EXTENSION.so SEED ITERATIONS. Loads the extension from the given file (built with
AddressSanitizer by the test), feeds it GENERATED blocks: the near-miss lines of tests/traffic/test_vector.py
and well-formed ones, mutated byte by byte and cut anywhere, each in a buffer of exactly its size (a read past
the end is an ASan error), through `count`, `hit_lines` (random match ends; packed, and `settle_lines` of those
bytes, whole or mutated), `newlines`, `find`, `line_starts` (texts cut
from the block, often at its end, with a random cap) and `add_counts` (random counters). Prints `ok N DIGEST`: the requests counted and a digest of
every result (the same for any build of the same code).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "traffic")]

import native_reference  # noqa: E402  (the Python references)
import test_vector  # noqa: E402  (the near-miss lines)
from doctor.traffic.stats import reference_add_counts  # noqa: E402


def main() -> None:
    spec = importlib.util.spec_from_file_location("_native", sys.argv[1])
    assert spec is not None and spec.loader is not None
    native = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(native)
    rnd = random.Random(int(sys.argv[2]))
    lines = [line.format(s=7) for line in test_vector.NEAR_MISSES]
    lines += [test_vector.G.format(s=1), test_vector.S.format(s=1), test_vector.T.format(s=1)]
    total, digest = 0, hashlib.sha256()
    for _ in range(int(sys.argv[3])):
        block = bytearray("\n".join(rnd.choice(lines) for _ in range(rnd.randint(1, 12))).encode())
        for _ in range(rnd.randint(0, 6)):
            block[rnd.randrange(len(block))] = rnd.choice(b' "[]0123456789-:.\n\r\x00Z T/abcHTP')
        if rnd.random() < 0.5:
            block += b"\n"
        raw = bytes(block[: rnd.randint(0, len(block))])
        data = ctypes.create_string_buffer(raw, len(raw)) if raw else raw
        for strict in (False, True):
            found = native.count(data, strict, lambda text, clf: 0, 60000.0, 0.0198, rnd.random() < 0.5)
            total += 0 if found is None else found[0]
            digest.update(repr(found).encode())
        reports = [value for _ in range(rnd.randint(0, 5)) for value in (rnd.randint(0, 9), rnd.randint(0, len(raw)))]
        numbered = native.hit_lines(data, 0, len(raw), reports)
        collected = native.Reports()  # the same reports through hyperscan's C handler
        for k in range(0, len(reports), 2):
            collected(reports[k], 0, reports[k + 1], 0, None)
        assert native.hit_lines(data, 0, len(raw), collected) == numbered
        digest.update(repr(numbered).encode())
        max_text = rnd.choice([-1, -1, 0, 8, 40])  # longer lines sent without their bytes
        packed = native.hit_lines(data, 0, len(raw), collected, True, max_text)  # sent by a scanning process
        memo = {row[3]: [rnd.choice([row[2], [0], None]), rnd.choice([(), ((0, "m"),)]), {}]
                for row in numbered[0] if rnd.random() < 0.5}  # lines seen before, whole with these ids or not
        expected: dict[int, object] = {}
        rest = native_reference.settle_lines(numbered[0], 7, memo, expected, b"0123456789", max_text)
        settled: dict[int, object] = {}
        assert native.settle_lines(packed, 7, memo, settled, b"0123456789") == (rest, numbered[1])
        assert list(settled.items()) == list(expected.items())
        hostile = bytearray(packed)  # packed bytes cut or changed: read back within them, or refused
        for _ in range(rnd.randint(1, 4)):
            if hostile:
                hostile[rnd.randrange(len(hostile))] = rnd.randrange(256)
        hostile = hostile[: rnd.randint(0, len(hostile))]
        try:
            digest.update(repr(native.settle_lines(ctypes.create_string_buffer(bytes(hostile), len(hostile))
                                                   if hostile else b"", 7, memo, {}, b"0123456789")).encode())
        except (ValueError, MemoryError, OverflowError):
            digest.update(b"refused")
        assert native.newlines(data, 0, len(raw)) == raw.count(b"\n")
        lo = rnd.randint(0, len(raw))
        hi = rnd.randint(lo, len(raw))
        needle = raw[lo:lo + rnd.randint(1, 7)] or b"error="  # often at the block's end, cut by it
        assert native.find(data, lo, hi, needle) == raw.find(needle, lo, hi)
        texts = [raw[a:a + rnd.randint(0, 9)] for a in (rnd.randint(0, len(raw)) for _ in range(rnd.randint(0, 6)))]
        folds = [rnd.random() < 0.5 for _ in texts]
        texts = [t.lower() if fold else t for t, fold in zip(texts, folds)]
        cap = rnd.randint(0, 8)
        found_lines = native.line_starts(data, texts, folds, cap)
        assert found_lines == native_reference.line_starts(raw, texts, folds, cap)
        digest.update(repr(found_lines).encode())
        mine, theirs = ({rnd.randint(0, 30): rnd.randint(-3, 9) for _ in range(rnd.randint(0, 12))} for _ in "ab")
        expected = Counter(mine)
        reference_add_counts(expected, theirs)
        added = Counter(mine)
        native.add_counts(added, theirs)
        assert list(added.items()) == list(expected.items())
        digest.update(repr(added).encode())
    for lines_count in (15, 16, 17, 200):  # a text on many lines: its list grows past its first 16 slots
        raw = ("ab\n" * lines_count).encode()
        data = ctypes.create_string_buffer(raw, len(raw))
        for cap in (lines_count - 1, lines_count, 10**6):
            found_lines = native.line_starts(data, [b"ab", b"ab", b"b\n"], [False, True, False], cap)
            assert found_lines == native_reference.line_starts(raw, [b"ab", b"ab", b"b\n"], [False, True, False], cap)
            digest.update(repr(found_lines).encode())
    print("ok", total, digest.hexdigest())


if __name__ == "__main__":
    main()
