"""Bytes of a block as NumPy arrays, tested eight at a time: the machinery of the NumPy traffic pass.

A `Block` holds one piece of a log (whole lines) with the positions of its newlines, quotes and `[`; a `Window`
is WIDTH bytes from one position of each of many rows, read as 64-bit words so that one operation tests eight
bytes (SWAR: digits, spaces, upper-case letters, a fixed `Pattern`), and parses numbers eight digits at a time.
The words are little-endian (the caller checks `sys.byteorder`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from doctor.traffic.parse import MAX_LINE_BYTES, Ordered

WIDTH = 32  # bytes looked at from any anchor
PAD = 64  # zero bytes before and after the block: windows never leave the array
I64, U64 = np.int64, np.uint64
BIG = I64(1 << 62)
POW10 = np.array([float(10**i) for i in range(23)])
POW10_INT = np.array([10**i for i in range(19)], I64)  # exact doubles: m / 10**k is then float("m-as-decimal")
ONES, HIGH, LOW7 = U64(0x0101010101010101), U64(0x8080808080808080), U64(0x7F7F7F7F7F7F7F7F)
GATHER = U64(0x0102040810204080)  # multiplies byte flags (bit 0 of each byte) into the top byte


def spread(byte: int) -> np.uint64:
    return U64(byte * 0x0101010101010101)


class Pattern:
    """A fixed-width pattern tested on windows a word at a time: `D` a digit, `.` any byte, else that byte."""

    def __init__(self, text: bytes) -> None:
        size = (len(text) + 7) // 8
        fields = {name: np.zeros(size * 8, np.uint8) for name in ("keep", "want", "low", "add", "carry")}
        for i, ch in enumerate(text):
            if ch == ord("D"):  # high nibble 3, low nibble 0-9 (adding 6 does not carry into bit 4)
                fields["keep"][i], fields["want"][i], fields["low"][i], fields["add"][i], fields["carry"][i] = (
                    0xF0, 0x30, 0x0F, 0x06, 0x10)
            elif ch != ord("."):
                fields["keep"][i], fields["want"][i] = 0xFF, ch
        self.words = size
        self.keep, self.want, self.low, self.add, self.carry = (f.view(U64) for f in fields.values())

    def test(self, words: np.ndarray) -> np.ndarray:
        """Whether each row's window starts with the pattern."""
        bad = np.zeros(len(words), U64)
        for j in range(self.words):
            w = words[:, j]
            bad |= (w & self.keep[j]) ^ self.want[j]
            if self.carry[j]:
                bad |= ((w & self.low[j]) + self.add[j]) & self.carry[j]
        return bad == 0  # type: ignore[no-any-return]


def flags(zero: np.ndarray, words: int = 4) -> np.ndarray:
    """Bit j set where byte j of the first `words` words of each row of `zero` (n, 4) is zero; bit 8 * words set
    (the end of what was looked at)."""
    found = ~((((zero[:, :words] & LOW7) + LOW7) | zero[:, :words]) | LOW7)  # 0x80 in each zero byte
    bits = (((found >> U64(7)) * GATHER) >> U64(56)).astype(U64)
    out = bits[:, 0] | U64(1 << (8 * words))
    for k in range(1, words):
        out |= bits[:, k] << U64(8 * k)
    return out  # type: ignore[no-any-return]


def low_bit(bits: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit (bits > 0)."""
    return np.frexp((bits & (~bits + U64(1))).astype(np.float64))[1].astype(I64) - 1  # type: ignore[no-any-return]


def high_bit(bits: np.ndarray) -> np.ndarray:
    """Index of the highest set bit (-1 for 0)."""
    return np.frexp(bits.astype(np.float64))[1].astype(I64) - 1  # type: ignore[no-any-return]


class Window:
    """WIDTH bytes from one position of each row: bytes, 64-bit words, digit and space flags."""

    def __init__(self, rows: np.ndarray, reach: int = 2) -> None:
        self.rows = rows
        self.words = rows.view(U64)
        self.reach = reach  # words that digit runs look at
        self._digits: np.ndarray | None = None
        self._spaces: np.ndarray | None = None

    def digits(self) -> np.ndarray:
        """Bit j set where column j is NOT a digit, for the first `self.reach` words (the bit after them set)."""
        if self._digits is None:
            w = self.words[:, : self.reach]
            bad = ((w & spread(0xF0)) ^ spread(0x30)) | (((w & spread(0x0F)) + spread(0x06)) & spread(0x10))
            self._digits = flags(bad, self.reach) ^ U64((1 << (8 * self.reach)) - 1)
        return self._digits

    def spaces(self) -> np.ndarray:
        """Bit j set where column j is a space (and bit 32)."""
        if self._spaces is None:
            self._spaces = flags(self.words ^ spread(0x20))
        return self._spaces

    def run(self, start: np.ndarray | int) -> np.ndarray:
        """Number of digits from column `start`; it stops where the window's looked-at words end (so a caller
        always checks the byte after the run)."""
        end = 8 * self.reach
        return low_bit(self.digits() >> np.clip(start, 0, end).astype(U64))  # type: ignore[no-any-return]

    def col(self, col: np.ndarray | int) -> np.ndarray:
        """The byte at column `col` of each row (0 past the window)."""
        if isinstance(col, int):
            return self.rows[:, col]  # type: ignore[no-any-return]
        wide = np.clip(col, 0, WIDTH)
        out = self.rows[np.arange(len(self.rows)), np.minimum(wide, WIDTH - 1)]
        return np.where(wide < WIDTH, out, 0)  # type: ignore[no-any-return]

    def number(self, size: np.ndarray, start: int = 0, skip: np.ndarray | None = None) -> np.ndarray:
        """The integer written by the digits in the `size` columns from `start` (but column `skip`: a dot)."""
        value = np.zeros(len(self.rows), I64)
        for k in range(int(size.max(initial=0))):
            take = k < size if skip is None else (k < size) & (k != skip)
            value = np.where(take, value * 10 + (self.rows[:, start + k].astype(I64) - 48), value)
        return value

    def upper(self) -> np.ndarray:
        """Number of upper-case letters from column 0 (the first word only: at most 8)."""
        w = self.words[:, 0]
        low7 = w & LOW7
        # bytes strictly between 0x40 and 0x5B (the bit-twiddling `hasbetween`, exact byte by byte)
        found = (spread(127 + 0x5B) - low7) & ~w & (low7 + spread(127 - 0x40)) & HIGH
        bits = ((found >> U64(7)) * GATHER) >> U64(56)
        return low_bit(~bits & U64(0x1FF))  # type: ignore[no-any-return]

    def decimal(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`\\d+\\.\\d+` at column 0, then a space or the end: (ok, value, digits before the dot)."""
        whole = self.run(0)
        frac = self.run(whole + 1)
        ok = (whole >= 1) & (self.col(whole) == 46) & (frac >= 1) & (whole <= 8) & (frac <= 8) & (whole + frac <= 15)
        ok &= ends(self.col(whole + 1 + frac))
        return ok, self.fixed(whole, frac, ok), whole

    def fixed(self, whole: np.ndarray, frac: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """float() of `whole` digits at column 0, a dot, `frac` digits (both <= 8; 0 where not `ok`): the digits as
        one integer over a power of ten, both exact doubles, so the division rounds as float() does."""
        whole, frac = np.where(ok, whole, 0), np.where(ok, frac, 0)
        mantissa = self.eight(np.zeros(len(whole), I64), whole) * POW10_INT[frac] + self.eight(whole + 1, frac)
        return mantissa / POW10[frac]  # type: ignore[no-any-return]

    def eight(self, start: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The integer written by `size` (0-8) digits from column `start` (< 24), eight bytes at a time (SWAR)."""
        start = np.clip(start, 0, 23)
        rows = np.arange(len(start))
        low, high = self.words[rows, start // 8], self.words[rows, start // 8 + 1]
        shift = (8 * (start % 8)).astype(U64)
        word = np.where(shift == 0, low, (low >> shift) | (high << (U64(64) - np.maximum(shift, U64(8)))))
        word = np.where(size > 0, word << (U64(8) * (8 - np.clip(size, 1, 8)).astype(U64)), U64(0))
        word = ((word & spread(0x0F)) * U64(2561)) >> U64(8)
        word = ((word & U64(0x00FF00FF00FF00FF)) * U64(6553601)) >> U64(16)
        return (((word & U64(0x0000FFFF0000FFFF)) * U64(42949672960001)) >> U64(32)).astype(I64)  # type: ignore[no-any-return]


def ends(byte: np.ndarray) -> np.ndarray:
    """What may follow a number the reference reads with `\\b`, taken here: a space or the end of the line."""
    return (byte == 10) | (byte == 32)  # type: ignore[no-any-return]


class Block:
    """One block's bytes as arrays: line bounds, the positions of quotes and `[`, windows at any position."""

    def __init__(self, block: bytes) -> None:
        size = len(block)
        self.a = a = np.zeros(size + 2 * PAD, np.uint8)
        a[PAD:PAD + size] = np.frombuffer(block, np.uint8)
        self.win = sliding_window_view(a, WIDTH)
        self.size = size
        body = a[PAD:PAD + size]
        low = body < 32
        if np.count_nonzero(low) > size // 64 + 1:
            raise Ordered  # control bytes all over (NUL-filled, UTF-16): not text lines, the regex pass reads them
        ctl = np.flatnonzero(low)
        newline = a[ctl + PAD] == 10
        self.end = ctl[newline].astype(I64)
        self.start = np.concatenate(([0], self.end[:-1] + 1)).astype(I64)
        self.clean = (self.end - self.start) <= MAX_LINE_BYTES
        self.clean[np.searchsorted(self.end, ctl[~newline])] = False  # \r, \t, ...: the reference's own splitting
        self.quotes = padded(np.flatnonzero(body == 34))
        self.brackets = padded(np.flatnonzero(body == 91))
        inner = self.brackets[1:-1]
        after = a[inner + PAD + 1]
        self.digit_brackets = padded(inner[(after >= 48) & (after <= 57)])

    def window(self, at: np.ndarray, reach: int = 2) -> Window:
        """WIDTH bytes from each position (zeros outside the block); digit runs look at `reach` words."""
        return Window(self.win[np.clip(at, -PAD, self.size) + PAD], reach)

    def byte(self, at: np.ndarray) -> np.ndarray:
        """The byte at each position (0 outside the block)."""
        return self.a[np.clip(at, -PAD, self.size) + PAD]  # type: ignore[no-any-return]

    def same(self, p: np.ndarray, q: np.ndarray, size: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Whether the bytes [p, p+size) equal [q, q+other) for each row."""
        equal = size == other
        size = np.where(equal, size, 0)
        total = int(size.sum())
        if total:
            row = np.repeat(np.arange(len(p)), size)
            k = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
            equal[row[self.byte(p[row] + k) != self.byte(q[row] + k)]] = False
        return equal  # type: ignore[no-any-return]

    def spaceless(self, p: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Whether [p, p+size) holds no space, for each row."""
        total = int(size.sum())
        clean = np.ones(len(p), bool)
        if total:
            row = np.repeat(np.arange(len(p)), size)
            k = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
            clean[row[self.byte(p[row] + k) == 32]] = False
        return clean


def padded(found: np.ndarray) -> np.ndarray:
    return np.concatenate(([-BIG], found, [BIG])).astype(I64)


def next_at(positions: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first of `positions` at or after each of `at` (BIG when none)."""
    return positions[np.minimum(np.searchsorted(positions, at), len(positions) - 1)]  # type: ignore[no-any-return]


def year_ok(w: Window) -> np.ndarray:
    """A year from 1970 in the first four columns: `int(timestamp)` is then the floor second, as the reference counts."""
    return w.number(np.full(len(w.rows), 4)) >= 1970  # type: ignore[no-any-return]


MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], U64)  # the low k bytes of a word


def masked(words: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two words of each row with the bytes from `size` on set to zero."""
    return words[:, 0] & MASKS[np.clip(size, 0, 8)], words[:, 1] & MASKS[np.clip(size - 8, 0, 8)]
