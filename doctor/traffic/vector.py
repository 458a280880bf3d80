"""The traffic pass over a whole block in NumPy: no Python object per line.

Each line is classified by checks at fixed offsets from a few anchors (the line's start, its first `[`, the
quotes around the request), done as array operations over every line of the block at once, on 32-byte windows
read as four 64-bit words (SWAR: eight bytes tested per operation):

- S: an azmlinfsrv summary (`DATE TIME,ms L [pid] azmlinfsrv - METHOD /path STATUS MSms ...`),
- G: a `[pid] gunicorn.access - ` line of the inference server: the twin of the S line just before it (same
  pid, path and status: not a request of its own) or a lone twin (a request),
- A: a plain access line (gunicorn default/common/combined, front-end, ingress-nginx), each of them maybe after
  a `kubectl/docker --timestamps` prefix,
- anything else, or anything these checks cannot vouch for, is read by the reference parser (`parse_line`),
  line by line (in a container log only lines that hold an access-line mark can count).

The checks accept only lines the reference parser reads the very same way (each names the regex part it
stands for); a block where order matters (a summary without its twin, a summary the checks do not take, a
failing status without its first excerpt yet, a probe's client error) raises `Ordered`, and the caller counts
it the old way. Times are parsed once per distinct minute by the reference's own `line_time`; latency
buckets use `math.log` wherever `np.log` could round the other way.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Iterable, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from doctor.logs import line_time
from doctor.traffic.parse import HEALTH_PATHS, MAX_LINE_BYTES, LineParser, Ordered
from doctor.traffic.stats import BUCKET, Accumulator


class Counting(Protocol):
    """What the NumPy pass uses of the block pass it serves (doctor.traffic.fast.FastPass)."""

    acc: Accumulator
    parser: LineParser
    clock: "Clock | None"

    def count_lines(self, texts: Iterable[bytes], tmp: Accumulator, twins_possible: bool) -> None:
        """Lines no fast shape took, read by the reference parser; raises Ordered where order matters."""

    def check_excerpts(self, tmp: Accumulator) -> None:
        """Raises Ordered when a failing status of `tmp` has no excerpt yet."""

WIDTH = 32  # bytes looked at from any anchor
PAD = 64  # zero bytes before and after the block: windows never leave the array
I64, U64 = np.int64, np.uint64
NONE = I64(-(1 << 62))  # "no second" (the reference's None)
BIG = I64(1 << 62)
WORD = np.zeros(256, bool)  # `\w` of a bytes pattern
WORD[[*b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"]] = True
POW10 = np.array([float(10**i) for i in range(23)])
POW10_INT = np.array([10**i for i in range(19)], I64)  # exact doubles: m / 10**k is then float("m-as-decimal")
ONES, HIGH, LOW7 = U64(0x0101010101010101), U64(0x8080808080808080), U64(0x7F7F7F7F7F7F7F7F)
GATHER = U64(0x0102040810204080)  # multiplies byte flags (bit 0 of each byte) into the top byte


def _spread(byte: int) -> np.uint64:
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


STAMP = Pattern(b"DDDD-DD-DDTDD:DD:DD")  # --timestamps prefix (then `Z ` or `.n{1,9}Z `)
HEAD = Pattern(b"DDDD-DD-DD DD:DD:DD,DDD . [")  # the server's logging time, level, `[`
AZML, GUNI = Pattern(b"] azmlinfsrv - "), Pattern(b"] gunicorn.access - ")
CLF = Pattern(b"[DD/.../DDDD:DD:DD:DD .DDDD] \"")  # access-log time, then the request's opening quote
HTTP = Pattern(b" HTTP/D.D\"")
STATUS = Pattern(b"\" DDD ")
CODE_AFTER = Pattern(b" DDD ")


def _flags(zero: np.ndarray, words: int = 4) -> np.ndarray:
    """Bit j set where byte j of the first `words` words of each row of `zero` (n, 4) is zero; bit 8 * words set
    (the end of what was looked at)."""
    found = ~((((zero[:, :words] & LOW7) + LOW7) | zero[:, :words]) | LOW7)  # 0x80 in each zero byte
    bits = (((found >> U64(7)) * GATHER) >> U64(56)).astype(U64)
    out = bits[:, 0] | U64(1 << (8 * words))
    for k in range(1, words):
        out |= bits[:, k] << U64(8 * k)
    return out  # type: ignore[no-any-return]


def _low_bit(bits: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit (bits > 0)."""
    return np.frexp((bits & (~bits + U64(1))).astype(np.float64))[1].astype(I64) - 1  # type: ignore[no-any-return]


def _high_bit(bits: np.ndarray) -> np.ndarray:
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
            bad = ((w & _spread(0xF0)) ^ _spread(0x30)) | (((w & _spread(0x0F)) + _spread(0x06)) & _spread(0x10))
            self._digits = _flags(bad, self.reach) ^ U64((1 << (8 * self.reach)) - 1)
        return self._digits

    def spaces(self) -> np.ndarray:
        """Bit j set where column j is a space (and bit 32)."""
        if self._spaces is None:
            self._spaces = _flags(self.words ^ _spread(0x20))
        return self._spaces

    def run(self, start: np.ndarray | int) -> np.ndarray:
        """Number of digits from column `start`; it stops where the window's looked-at words end (so a caller
        always checks the byte after the run)."""
        end = 8 * self.reach
        return _low_bit(self.digits() >> np.clip(start, 0, end).astype(U64))  # type: ignore[no-any-return]

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
        found = (_spread(127 + 0x5B) - low7) & ~w & (low7 + _spread(127 - 0x40)) & HIGH
        bits = ((found >> U64(7)) * GATHER) >> U64(56)
        return _low_bit(~bits & U64(0x1FF))  # type: ignore[no-any-return]

    def decimal(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`\\d+\\.\\d+` at column 0, then a space or the end: (ok, value, digits before the dot)."""
        whole = self.run(0)
        frac = self.run(whole + 1)
        ok = (whole >= 1) & (self.col(whole) == 46) & (frac >= 1) & (whole <= 8) & (frac <= 8) & (whole + frac <= 15)
        ok &= _ends(self.col(whole + 1 + frac))
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
        word = ((word & _spread(0x0F)) * U64(2561)) >> U64(8)
        word = ((word & U64(0x00FF00FF00FF00FF)) * U64(6553601)) >> U64(16)
        return (((word & U64(0x0000FFFF0000FFFF)) * U64(42949672960001)) >> U64(32)).astype(I64)  # type: ignore[no-any-return]


def _ends(byte: np.ndarray) -> np.ndarray:
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
        self.quotes = _padded(np.flatnonzero(body == 34))
        self.brackets = _padded(np.flatnonzero(body == 91))
        inner = self.brackets[1:-1]
        after = a[inner + PAD + 1]
        self.digit_brackets = _padded(inner[(after >= 48) & (after <= 57)])

    def window(self, at: np.ndarray, reach: int = 2) -> Window:
        """WIDTH bytes from each position (zeros outside the block); digit runs look at `reach` words."""
        return Window(self.win[np.clip(at, -PAD, self.size) + PAD], reach)

    def has(self, text: bytes) -> bool:
        """Whether `text` (ending with a byte rarer than its others) is in the block."""
        last = np.flatnonzero(self.a == text[-1]) - (len(text) - 1)
        for k, ch in enumerate(text[:-1]):
            last = last[self.a[last + k] == ch]
        return bool(len(last))

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


def _padded(found: np.ndarray) -> np.ndarray:
    return np.concatenate(([-BIG], found, [BIG])).astype(I64)


def _next(positions: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first of `positions` at or after each of `at` (BIG when none)."""
    return positions[np.minimum(np.searchsorted(positions, at), len(positions) - 1)]  # type: ignore[no-any-return]


def _year_ok(w: Window) -> np.ndarray:
    """A year from 1970 in the first four columns: `int(timestamp)` is then the floor second, as the reference counts."""
    return w.number(np.full(len(w.rows), 4)) >= 1970  # type: ignore[no-any-return]


class Lines:
    """Every line of a block classified (S, G, A or other) and, for S/G/A, its request's fields."""

    def __init__(self, b: Block) -> None:
        self.b = b
        start = b.start
        n = len(start)
        self.stamped = np.zeros(n, bool)
        self.x = start.copy()  # where the line proper starts (after a --timestamps prefix)
        maybe = np.flatnonzero(b.clean & (b.byte(start + 10) == 84) & (b.byte(start + 4) == 45))
        if len(maybe):
            self._stamps(maybe)
        self.pid_len = np.zeros(n, I64)
        self.summary, self.twin = np.zeros(n, bool), np.zeros(n, bool)
        maybe = np.flatnonzero(b.clean & (b.byte(self.x + 4) == 45) & (b.byte(self.x + 26) == 91))
        if len(maybe):
            self._heads(maybe)
        self.close = self.x + 27 + self.pid_len  # the `]` after the pid
        # a plain line must not start like an ISO time: the reference would take that as the line's time
        self.plain = b.clean & ~self.summary & ~self.twin & (self.stamped | (b.byte(start + 4) != 45))

    def _stamps(self, rows: np.ndarray) -> None:
        """Which of `rows` start with a --timestamps prefix (`YYYY-MM-DDTHH:MM:SS[.n{1,9}]Z `), and where it ends."""
        first = self.b.window(self.b.start[rows], reach=4)
        whole = first.run(20)
        zed = np.where(first.col(19) == 90, 19, 20 + whole)  # `Z` right after the second, or after `.n{1,9}`
        ok = STAMP.test(first.words) & _year_ok(first)
        ok &= (first.col(19) == 90) | ((first.col(19) == 46) & (whole >= 1) & (whole <= 9))
        ok &= (first.col(zed) == 90) & (first.col(zed + 1) == 32)
        self.stamped[rows] = ok
        self.x[rows] = np.where(ok, self.b.start[rows] + zed + 2, self.b.start[rows])

    def _heads(self, rows: np.ndarray) -> None:
        """Which of `rows` start (after any prefix) with the server's time, level and `[pid] ` + logger name."""
        b = self.b
        head = b.window(self.x[rows])
        ok = HEAD.test(head.words) & _year_ok(head) & ((head.col(24) - 65).astype(np.uint8) < 26)
        pid = b.window(self.x[rows] + 27)
        size = pid.run(0)
        ok &= (size >= 1) & (size <= 12)
        name = b.window(self.x[rows] + 27 + size)
        self.pid_len[rows] = size
        self.summary[rows] = ok & AZML.test(name.words)
        self.twin[rows] = ok & GUNI.test(name.words)

    def summaries(self) -> "Requests":
        """The S lines' requests: `[pid] azmlinfsrv - METHOD /path DDD N[.N]ms` then a space or the end (SUMMARY)."""
        b, i = self.b, np.flatnonzero(self.summary)
        if not len(i):
            return Requests.none()
        method = self.close[i] + 15
        verb = b.window(method)
        size = verb.upper()
        ok = (size >= 1) & (size <= 7) & (b.byte(method + size) == 32)
        path = method + size + 1
        at_path = b.window(path)
        gap = _low_bit(at_path.spaces())  # the path ends at the first space (within the window)
        ok &= (at_path.col(0) == 47) & (gap < WIDTH) & (path + gap < b.end[i])
        tail = b.window(path + gap)
        ok &= CODE_AFTER.test(tail.words)
        ms = b.window(path + gap + 5)
        whole = ms.run(0)
        dot = ms.col(whole) == 46
        frac = np.where(dot, ms.run(whole + 1), 0)
        unit = whole + np.where(dot, 1 + frac, 0)
        ok &= (whole >= 1) & (~dot | (frac >= 1)) & (whole <= 8) & (frac <= 8)
        ok &= (ms.col(unit) == 109) & (ms.col(unit + 1) == 115) & _ends(ms.col(unit + 2))
        value = ms.fixed(whole, frac, ok)
        return Requests(rows=i, ok=ok, code=tail.number(np.where(ok, 3, 0), 1), method=method, method_size=size,
                        method_word=verb.words[:, 0], path=path, path_size=gap, path_words=at_path.words[:, :2],
                        latency=value, when=np.zeros(len(i), I64))

    def accesses(self, summaries: np.ndarray) -> "Requests":
        """Plain access lines and the G lines' access part (_ACCESS): `H I U [time] "METHOD path[ HTTP/v]" status
        bytes`, then the end, ` "referer" "agent"`, or either followed by `[reqlen ]rt` and anything.
        `summaries`: the lines read as summaries (the twin after one needs no tail: it is no request)."""
        b = self.b
        i = np.flatnonzero(self.twin | self.plain)
        begin = np.where(self.twin[i], self.close[i] + 20, self.x[i])
        end = b.end[i]
        k = np.searchsorted(b.brackets, begin)
        when = b.brackets[k]  # the first `[` is the time's: nothing before can be read as one
        words = b.window(when - WIDTH).spaces()  # three words before the time, each after one space
        last = _high_bit(words & U64(0x7FFFFFFF))
        user = _high_bit(words & ((U64(1) << np.maximum(last, 0).astype(U64)) - U64(1)))
        host = when - WIDTH + user
        ok = (when < end) & ((words & U64(1 << 31)) > 0) & (last < 30) & (user >= 0) & (user < last - 1)
        ok &= (host > begin) & (b.byte(host - 1) != 32)
        time = b.window(when)
        ok &= CLF.test(time.words) & WORD[time.col(4)] & WORD[time.col(5)] & WORD[time.col(6)]  # `\w{3}` month
        ok &= (time.col(22) == 43) | (time.col(22) == 45)
        method = when + 30
        verb = b.window(method)
        size = verb.upper()
        ok &= (size >= 1) & (size <= 7) & (b.byte(method + size) == 32)
        path = method + size + 1
        q = np.minimum(np.searchsorted(b.quotes, method), len(b.quotes) - 1)
        quote = b.quotes[q]  # the request's closing quote: no quote in the path
        http = HTTP.test(b.window(quote - 9).words)
        stop = np.where(http, quote - 9, quote)
        ok &= (quote < end) & (stop > path) & (http | (b.byte(quote + 1) == 32))
        ok &= _next(b.digit_brackets, when + 1) > end  # no `[pid] ...` in the rest
        status = b.window(quote)
        dash = status.col(2) == 45
        ok &= np.where(dash, (status.col(1) == 32) & (status.col(3) == 32), STATUS.test(status.words))
        col = np.where(dash, 4, 6)
        count = np.where(status.col(col) == 45, 1, status.run(col))
        ok &= count >= 1
        latency = np.full(len(i), np.nan)
        # a twin right after a summary is no request of its own (or the block goes line by line): no tail to read
        tails = np.flatnonzero(ok & ~(self.twin[i] & summaries[np.maximum(i - 1, 0)] & (i > 0)))
        latency[tails], ok[tails] = self._tail((quote + col + count)[tails], end[tails], q[tails])
        at_path = b.window(path)
        short = (stop - path) < WIDTH
        ok &= ~short | (_low_bit(at_path.spaces()) >= stop - path)
        long = np.flatnonzero(ok & ~short)
        ok[long] = b.spaceless(path[long], (stop - path)[long])
        code = np.where(dash, 0, status.number(np.where(ok & ~dash, 3, 0), 2))
        return Requests(rows=i, ok=ok, code=code, method=method, method_size=size, method_word=verb.words[:, 0],
                        path=path, path_size=stop - path, path_words=at_path.words[:, :2], latency=latency, when=when)

    def _tail(self, at: np.ndarray, end: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """After the bytes field: (request time in ms or NaN, whether the reference reads it the same way).
        `q`: the index of the request's closing quote among the block's quotes."""
        b = self.b
        c0, c1 = b.byte(at), b.byte(at + 1)
        top = len(b.quotes) - 1
        opened, agent, second, close = (b.quotes[np.minimum(q + j, top)] for j in (1, 2, 3, 4))
        # `"referer" "agent"`: no quote inside either
        quoted = (c0 == 32) & (c1 == 34) & (opened == at + 1) & (second == agent + 2) & (b.byte(agent + 1) == 32)
        quoted &= close < end
        after = b.byte(close + 1)
        number = (c0 == 32) & (c1 >= 48) & (c1 <= 57)
        ok = (c0 == 10) | number | (quoted & _ends(after))
        timed = number | (quoted & (after == 32))
        latency = np.full(len(at), np.nan)
        rows = np.flatnonzero(timed)
        if len(rows):
            start = np.where(quoted[rows], close[rows] + 2, at[rows] + 1)
            window = b.window(start)
            alone, first, whole = window.decimal()
            value = first
            later = np.flatnonzero(~alone)
            fine = alone.copy()
            if len(later):  # `$request_length $request_time`
                behind = Window(window.rows[later]).col(whole[later]) == 32
                fine_later, value_later, _ = b.window(start[later] + whole[later] + 1).decimal()
                fine[later] = (whole[later] >= 1) & behind & fine_later
                value[later] = value_later
            ok[rows] &= fine
            latency[rows] = value * 1000.0
        return latency, ok


class Requests:
    """Fields of some lines' requests (`rows`: their line numbers), `ok` where the checks vouch for them; the first
    word of the method and the first two of the path (bytes beyond the method or path not masked yet)."""

    FIELDS = ("rows", "ok", "code", "method", "method_size", "method_word", "path", "path_size", "path_words",
              "latency", "when")

    def __init__(self, **fields: np.ndarray) -> None:
        self.rows, self.ok, self.code = fields["rows"], fields["ok"], fields["code"]
        self.method, self.method_size, self.method_word = fields["method"], fields["method_size"], fields["method_word"]
        self.path, self.path_size, self.path_words = fields["path"], fields["path_size"], fields["path_words"]
        self.latency, self.when = fields["latency"], fields["when"]

    def take(self, keep: np.ndarray) -> "Requests":
        """The requests where `keep` holds."""
        return Requests(**{name: getattr(self, name)[keep] for name in self.FIELDS})

    @classmethod
    def none(cls) -> "Requests":
        """No requests."""
        empty = np.zeros(0, I64)
        return cls(rows=empty, ok=empty.astype(bool), code=empty, method=empty, method_size=empty,
                   method_word=empty.astype(U64), path=empty, path_size=empty, path_words=np.zeros((0, 2), U64),
                   latency=empty.astype(float), when=empty)


MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], U64)  # the low k bytes of a word


def _masked(words: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two words of each row with the bytes from `size` on set to zero."""
    return words[:, 0] & MASKS[np.clip(size, 0, 8)], words[:, 1] & MASKS[np.clip(size - 8, 0, 8)]


def _iso_second(text: bytes) -> int | None:
    when = line_time(text)
    return int(when.timestamp()) if when else None


def _clf_second(text: bytes) -> int | None:
    when = line_time(b"[" + text + b"]")
    return int(when.timestamp()) if when else None


class Clock:
    """Epoch seconds of fixed-width time texts, each distinct minute parsed once by the reference (`line_time`)."""

    def __init__(self) -> None:
        self.minutes: dict[bytes, int | None] = {}

    def seconds(self, b: Block, at: np.ndarray, width: int, ss: int, parse: Callable[[bytes], int | None]) -> np.ndarray:
        """The second of each time text of `width` bytes at `at` (its seconds at column `ss`; NONE where the
        reference reads none). The texts were checked digit by digit."""
        if not len(at):
            return np.zeros(0, I64)
        window = b.window(at)
        second = (window.col(ss).astype(I64) - 48) * 10 + window.col(ss + 1) - 48
        keep = np.zeros(WIDTH, np.uint8)
        keep[:width] = 0xFF
        keep[ss:ss + 2] = 0  # the minute: everything but the seconds
        keep_words = keep.view(U64)
        new = np.zeros(len(at), bool)
        new[0] = True
        for k in range((width + 7) // 8):
            word = window.words[:, k] & keep_words[k]
            new[1:] |= word[1:] != word[:-1]
        firsts = np.flatnonzero(new)
        texts = [bytes(window.rows[row, :width]) for row in firsts.tolist()]
        bases = np.array([self._minute(text[:ss] + b"00" + text[ss + 2:], parse) for text in texts], I64)
        base = np.repeat(bases, np.diff(np.append(firsts, len(at))))
        return np.where((base != NONE) & (second < 60), base + second, NONE)  # type: ignore[no-any-return]

    def _minute(self, text: bytes, parse: Callable[[bytes], int | None]) -> int:
        try:
            return self.minutes[text]
        except KeyError:
            if len(self.minutes) > 100_000:
                self.minutes.clear()
            found = parse(text)
            value = self.minutes[text] = int(NONE) if found is None else found
            return value


GET, HEAD_ = (U64(int.from_bytes(m, "little")) for m in (b"GET", b"HEAD"))
PROBES = [(len(p), *(U64(int.from_bytes(p.ljust(16, b"\0")[k:k + 8], "little")) for k in (0, 8))) for p in HEALTH_PATHS]


def _health(req: Requests) -> np.ndarray:
    """is_health: GET or HEAD of a probe path (before any `?`; probe paths are shorter than 16 bytes)."""
    word, size = req.method_word, req.method_size
    found = np.zeros(len(size), bool)
    maybe = np.flatnonzero(((size == 3) & ((word & MASKS[3]) == GET)) | ((size == 4) & ((word & MASKS[4]) == HEAD_)))
    if not len(maybe):
        return found
    words = req.path_words[maybe]
    padded = np.zeros((len(maybe), 4), U64)
    padded[:, :2] = words
    query = _low_bit(_flags(padded ^ _spread(63)) & U64(0xFFFF) | U64(1 << 16))
    core = np.minimum(query, req.path_size[maybe])
    first, second = _masked(words, core)
    hit = np.zeros(len(maybe), bool)
    for length, w0, w1 in PROBES:
        hit |= (core == length) & (first == w0) & (second == w1)
    found[maybe] = hit
    return found


def _scatter(n: int, rows: np.ndarray, values: np.ndarray, fill: object = 0) -> np.ndarray:
    out = np.full(n, fill, values.dtype)
    out[rows] = values
    return out


def count_block(fast: "Counting", block: bytes) -> Accumulator:
    """The statistics of one block of whole lines, with `fast`'s parser state and caches; raises Ordered."""
    pending = list(fast.parser.pending_keys())
    if len(pending) >= fast.parser.PENDING:
        raise Ordered  # a full deque of summaries waiting for their twin: line by line
    b = Block(block)
    if b"=" in block and b.has(b"error="):
        raise Ordered  # a probe's client errors: line by line
    lines = Lines(b)
    n = len(b.start)
    summaries = lines.summaries()
    accesses = lines.accesses(_scatter(n, summaries.rows[summaries.ok], np.ones(int(summaries.ok.sum()), bool), False))
    s = summaries.take(summaries.ok)
    a = accesses.take(accesses.ok)
    is_a = _scatter(n, a.rows, np.ones(len(a.rows), bool), False)
    if not _paired(b, lines, s, a, is_a).all():
        raise Ordered  # a summary without its twin right after it: the pending deque, in order
    twins = _scatter(n, s.rows + 1, np.ones(len(s.rows), bool), False)
    order = _pending_order(block, b, lines, a, twins, pending) if pending else None
    a = a.take(~twins[a.rows])
    tmp = Accumulator(timeout_ms=fast.acc.timeout_ms)
    _count(fast, b, lines, s, a, tmp)
    known = is_a | _scatter(n, s.rows, np.ones(len(s.rows), bool), False)
    unknown = np.flatnonzero(~known & (b.end > b.start))
    if len(unknown):
        cut = np.flatnonzero(np.diff(unknown) != 1) + 1
        firsts, lasts = unknown[np.r_[0, cut]], unknown[np.r_[cut - 1, len(unknown) - 1]]
        texts = [block[x:y] for x, y in zip(b.start[firsts].tolist(), b.end[lasts].tolist())]
        fast.count_lines(texts, tmp, bool(pending))
    fast.check_excerpts(tmp)
    if order is not None:
        fast.parser.reorder(order)
    return tmp


def _paired(b: Block, lines: Lines, s: Requests, a: Requests, is_a: np.ndarray) -> np.ndarray:
    """Whether each summary has its twin on the next line (a G line of the same pid, path and status)."""
    n = len(b.start)
    if not len(a.rows):
        return np.zeros(len(s.rows), bool)
    nxt = np.minimum(s.rows + 1, n - 1)
    where = np.minimum(np.searchsorted(a.rows, nxt), len(a.rows) - 1)
    paired = (s.rows + 1 < n) & is_a[nxt] & lines.twin[nxt]
    size = lines.pid_len[s.rows]
    mine = _masked(b.window(lines.x[s.rows] + 27).words, size)
    theirs = _masked(b.window(lines.x[nxt] + 27).words, size)
    paired &= (size == lines.pid_len[nxt]) & (mine[0] == theirs[0]) & (mine[1] == theirs[1])
    paired &= (a.code[where] == s.code) & (s.path_size == a.path_size[where])
    mine, theirs = _masked(s.path_words, s.path_size), _masked(a.path_words[where], s.path_size)
    paired &= (mine[0] == theirs[0]) & (mine[1] == theirs[1])
    long = np.flatnonzero(paired & (s.path_size > 16))
    paired[long] = b.same(s.path[long], a.path[where][long], s.path_size[long], a.path_size[where][long])
    return paired


def _pending_order(block: bytes, b: Block, lines: Lines, a: Requests, twins: np.ndarray,
                   pending: list[tuple[bytes, str, int]]) -> list[tuple[bytes, str, int]] | None:
    """The pending summaries after this block (None: as before): a pair whose key is pending moves that key to
    the end, as the reference's append-then-remove-the-first does. Raises Ordered for a lone twin whose key is
    pending (it may be that summary's twin)."""
    g = a.take(lines.twin[a.rows])
    size = lines.pid_len[g.rows]
    value = b.window(lines.x[g.rows] + 27).number(size)
    maybe = np.zeros(len(g.rows), bool)
    for pid, _, status in pending:
        maybe |= (size == len(pid)) & (value == int(pid)) & (g.code == status)
    keys = set(pending)
    moved = []
    for row, pid_at, size_at, path, path_size, code in zip(*(v[maybe].tolist() for v in (
            g.rows, lines.x[g.rows] + 27, size, g.path, g.path_size, g.code))):
        key = (block[pid_at:pid_at + size_at], block[path:path + path_size].decode("utf-8", "replace"), code)
        if key in keys:
            if not twins[row]:
                raise Ordered  # a lone twin of a pending summary, or a request of its own: only order tells
            moved.append(key)
    if not moved:
        return None
    order = list(pending)
    for key in moved:
        order.remove(key)
        order.append(key)
    return order


def _count(fast: "Counting", b: Block, lines: Lines, s: Requests, a: Requests, tmp: Accumulator) -> None:
    """Requests, statuses, seconds and latencies of the S and A/G rows (health probes left out)."""
    clock = fast.clock
    assert clock is not None
    stamp = lines.stamped
    iso_at = np.where(stamp[s.rows], b.start[s.rows], lines.x[s.rows])
    s_sec = clock.seconds(b, iso_at, 19, 17, _iso_second)
    assert a.when is not None
    clf = clock.seconds(b, a.when + 1, 26, 18, _clf_second)
    iso_first = stamp[a.rows] | lines.twin[a.rows]  # the line's own time comes first, the bracketed one if unreadable
    a_sec = clf.copy()
    if iso_first.any():
        pick = np.flatnonzero(iso_first)
        rows = a.rows[pick]
        first = clock.seconds(b, np.where(stamp[rows], b.start[rows], lines.x[rows]), 19, 17, _iso_second)
        a_sec[pick] = np.where(first != NONE, first, clf[pick])
    code = np.concatenate((s.code, a.code))
    second = np.concatenate((s_sec, a_sec))
    latency = np.concatenate((s.latency, a.latency))
    keep = ~np.concatenate((_health(s), _health(a)))
    code, second, latency = code[keep], second[keep], latency[keep]
    tmp.requests += len(code)
    _tally(tmp.status, code)
    timed = second != NONE
    _tally(tmp.per_second, second[timed])
    _tally(tmp.per_second_503, second[timed & (code == 503)])
    has = ~np.isnan(latency)
    if has.any():
        value = np.maximum(latency[has], 0.001)
        bucket = _buckets(value)
        ok = (code[has] >= 200) & (code[has] < 400)
        _tally(tmp.latency_buckets, bucket)
        _tally(tmp.latency_ok, bucket[ok])
        tmp.latency_count += len(value)
        tmp.slow += int((value >= tmp.timeout_ms).sum())
        tmp.latency_max = max(tmp.latency_max, float(value.max()))


def _tally(counter: Counter[int], values: np.ndarray) -> None:
    """Add each value's count to `counter`."""
    if not len(values):
        return
    low, high = int(values.min()), int(values.max())
    if high - low < 4 * len(values) + 4096:
        counts = np.bincount(values - low)
        found = np.flatnonzero(counts)
        counter.update(dict(zip((found + low).tolist(), counts[found].tolist())))
    else:  # spread out (seconds months apart): sorted instead
        found, counts = np.unique(values, return_counts=True)
        counter.update(dict(zip(found.tolist(), counts.tolist())))


def _buckets(value: np.ndarray) -> np.ndarray:
    """round(math.log(v) / BUCKET) for each value: np.log, and math.log itself where they could round apart."""
    q = np.log(value) / BUCKET
    bucket = np.rint(q)
    near = np.abs(q - np.floor(q) - 0.5) < 1e-6
    if near.any():
        bucket[near] = [round(math.log(v) / BUCKET) for v in value[near].tolist()]
    return bucket.astype(I64)  # type: ignore[no-any-return]
