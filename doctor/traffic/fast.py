"""The traffic pass a block at a time: one compiled regex over the block, counting in C, the line parser as fallback.

Every line of a block falls in one of four shapes: an azmlinfsrv summary line (S), a summary line
directly followed by its gunicorn.access twin (P), a plain gunicorn/nginx access line (A), or any
other line (O, handed to `parse_line`, the reference). The shapes are strict enough that the
reference parser reads each S/P/A line exactly as the regex does (tests/traffic/test_fast_equivalence.py).
Rows are counted with `collections.Counter` over tuples, timestamps are parsed once per distinct
second. Where order matters (a summary whose twin comes later, a first excerpt for a failing status,
client errors) the block goes through `LineParser.feed` line by line, as before.
"""

from __future__ import annotations

import re
from collections import Counter
from operator import itemgetter
from typing import Callable, Iterator

from doctor.logs import line_time
from doctor.traffic.parse import _LOOKS_ACCESS, _PID, _SUMMARY, HEALTH_PATHS, LineParser, is_health, parse_line
from doctor.traffic.stats import MAX_EXCERPTS, Accumulator, bucket_of

PIECE_BYTES = 1024 * 1024  # rows of one piece at a time: bounded memory

_DT = rb"(?:19[7-9]|[2-9]\d\d)\d-\d\d-\d\d"  # from 1970: int(timestamp) is then the floor second
_HMS = rb"\d\d:\d\d:\d\d"
_S = (rb"(" + _DT + rb"[T ]" + _HMS + rb")(?:\.\d{1,9}Z " + _DT + rb" " + _HMS + rb")?,\d{1,9} [A-Z] "
      rb"\[(?P<pid>\d+)\] azmlinfsrv - ([A-Z]+ (?P<path>/[^\s\"]*)) (?P<st>\d{3}) (\d+(?:\.\d+)?)ms"
      rb"(?:[ \t][^\r\n]*)?\r?\n")
_TWIN = (rb"(?:" + _DT + rb"T" + _HMS + rb"\.\d{1,9}Z )?" + _DT + rb" " + _HMS + rb",\d{1,9} [A-Z] "
         rb"\[(?P=pid)\] (g)unicorn\.access - [\w.:]+ [^\s\[]+ [^\s\[]+ \[[^\]\r\n]*\] "
         rb"\"[A-Z]+ (?P=path)(?: HTTP/[\d.]+)?\" (?P=st) (?:\d+|-)[^\r\n\[]*\r?\n")
_A = (rb"[\w.:]+ [^\s\[]+ [^\s\[]+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
      rb"\"([A-Z]+ [^\s\"\[]+)(?: HTTP/[\d.]+)?\" (\d{3}|-) (?:\d+|-) \"[^\"\[\r\n]*\" \"[^\"\[\r\n]*\""
      rb"(?: (\d+\.\d+))?\r?\n")
_O = rb"([^\n]*)\n"
ROWS = re.compile(_S + rb"(?:" + _TWIN + rb")?|" + _A + b"|" + _O)
# row: 0 sec, 1 pid, 2 method+path, 3 path, 4 status, 5 ms, 6 twin | 7 time, 8 method+path, 9 status, 10 rt | 11 other
_COUNT_KEY = itemgetter(0, 2, 4, 6, 7, 8, 9)
_LATENCY_KEY = itemgetter(2, 4, 5, 8, 9, 10)
_OTHER = itemgetter(11)
_MAY_COUNT = (b'] "', b'" ', b"gunicorn.access - ", b"azmlinfsrv - ")


class Ordered(Exception):
    """This piece needs the line-by-line parser (order matters in it)."""


class FastPass:
    """One source's requests counted a piece at a time into `acc`, with `parser` as oracle and fallback."""

    def __init__(self, acc: Accumulator, parser: LineParser, source: str) -> None:
        self.acc, self.parser, self.source = acc, parser, source
        self._seconds: dict[bytes, int | None] = {}
        self._values: dict[tuple[bytes, float], tuple[float, int]] = {}
        self._health: dict[bytes, bool] = {}

    def feed_block(self, block: bytes) -> None:
        """Count every request of a block of whole lines."""
        for start, end in _pieces(block):
            try:
                self.acc.merge(self._piece(block, start, end))
            except Ordered:
                self._ordered(block[start:end])

    def _ordered(self, piece: bytes) -> None:
        for line in piece.splitlines():
            request = self.parser.feed(line)
            if request is not None and not is_health(request):
                self.acc.add(request, self.source, line)

    def _piece(self, block: bytes, start: int, end: int) -> Accumulator:
        if block.find(b"error=", start, end) >= 0:
            raise Ordered  # client errors (probe logs): rare, per line
        rows = ROWS.findall(block, start, end)
        tmp = Accumulator(timeout_ms=self.acc.timeout_ms)
        lone = self._counts(Counter(map(_COUNT_KEY, rows)), tmp)
        self._twins(rows, lone)
        self._others(rows, tmp, lone)
        self._latencies(Counter(map(_LATENCY_KEY, rows)), tmp)
        self._check_excerpts(tmp)
        if lone:
            self.parser.remember(_last_summaries(rows))
        return tmp

    def _counts(self, keys: Counter[tuple[bytes, ...]], tmp: Accumulator) -> bool:
        """Requests, statuses and per-second counts of the S/P/A rows; True when a lone summary was seen."""
        lone = False
        for (sec, mp_s, st_s, twin, time_a, mp_a, st_a), n in keys.items():
            if sec:
                lone = lone or not twin
                second, status, mp = self._second(sec, _iso_second), int(st_s), mp_s
            elif time_a:
                second, status, mp = self._second(time_a, _clf_second), 0 if st_a == b"-" else int(st_a), mp_a
            else:
                continue
            if self._is_health(mp):
                continue
            tmp.requests += n
            tmp.status[status] += n
            if second is not None:
                tmp.per_second[second] += n
                if status == 503:
                    tmp.per_second_503[second] += n
        return lone

    def _twins(self, rows: list[tuple[bytes, ...]], lone: bool) -> None:
        """Summary+twin pairs leave the pending deque as it was only when it is short and holds none of them."""
        pending = self.parser.pending_keys()
        if not (pending or lone):
            return
        pairs = {(r[1], r[3].decode(), int(r[4])) for r in rows if r[6]}
        if pairs and (lone or len(pending) >= LineParser.PENDING or pairs & set(pending)):
            raise Ordered

    def _others(self, rows: list[tuple[bytes, ...]], tmp: Accumulator, lone: bool) -> None:
        """Lines of no fast shape, read by the reference parser; order-dependent ones send the piece back."""
        strict, twins_possible = self.parser.strict, lone or bool(self.parser.pending_keys())
        for text in filter(None, map(_OTHER, rows)):
            for line in text.splitlines():
                if not strict and not any(mark in line for mark in _MAY_COUNT):
                    continue
                if not line.strip():
                    continue
                request = parse_line(line)
                if request is None:
                    tmp.malformed += bool(strict or _LOOKS_ACCESS.search(line))
                elif _SUMMARY.search(line) or (twins_possible and _PID.search(line)):
                    raise Ordered
                elif not is_health(request):
                    tmp.add(request, self.source, line)

    def _latencies(self, keys: Counter[tuple[bytes, ...]], tmp: Accumulator) -> None:
        """The latency histogram of the S/P rows (ms) and A rows with a request time (seconds)."""
        for (mp_s, st_s, ms, mp_a, st_a, rt), n in keys.items():
            if ms:
                (value, bucket), status, mp = self._value(ms, 1.0), int(st_s), mp_s
            elif rt:
                (value, bucket), status, mp = self._value(rt, 1000.0), 0 if st_a == b"-" else int(st_a), mp_a
            else:
                continue
            if not self._is_health(mp):
                tmp.add_latency(value, bucket, status, n)

    def _check_excerpts(self, tmp: Accumulator) -> None:
        """A failing status not excerpted yet needs its first line: found in order."""
        if len(self.acc.excerpts) >= MAX_EXCERPTS:
            return
        if any((code >= 400 or code == 0) and code not in self.acc.excerpt_codes for code in tmp.status):
            raise Ordered

    def _second(self, text: bytes, parse: Callable[[bytes], int | None]) -> int | None:
        try:
            return self._seconds[text]
        except KeyError:
            second = self._seconds[text] = parse(text)
            return second

    def _value(self, text: bytes, scale: float) -> tuple[float, int]:
        """Latency (clamped as the accumulator does) and its histogram bucket, once per distinct text."""
        try:
            return self._values[text, scale]
        except KeyError:
            value = max(float(text) * scale, 0.001)
            found = self._values[text, scale] = (value, bucket_of(value))
            return found

    def _is_health(self, mp: bytes) -> bool:
        try:
            return self._health[mp]
        except KeyError:
            method, _, path = mp.partition(b" ")
            found = self._health[mp] = method in (b"GET", b"HEAD") and path.split(b"?")[0] in HEALTH_PATHS
            return found


def _iso_second(text: bytes) -> int | None:
    when = line_time(text)
    return int(when.timestamp()) if when else None


def _clf_second(text: bytes) -> int | None:
    when = line_time(b"[" + text + b"]")
    return int(when.timestamp()) if when else None


def _last_summaries(rows: list[tuple[bytes, ...]]) -> list[tuple[bytes, str, int]]:
    """The pending keys of the last lone summary rows, oldest first (the deque keeps 64)."""
    found: list[tuple[bytes, str, int]] = []
    for row in reversed(rows):
        if row[0] and not row[6]:
            found.append((row[1], row[3].decode(), int(row[4])))
            if len(found) >= LineParser.PENDING:
                break
    return found[::-1]


def _pieces(block: bytes) -> Iterator[tuple[int, int]]:
    """Spans of whole lines of about PIECE_BYTES."""
    start = 0
    while start < len(block):
        cut = block.find(b"\n", start + PIECE_BYTES)
        end = len(block) if cut < 0 else cut + 1
        yield start, end
        start = end
