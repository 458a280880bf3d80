"""The traffic pass a block at a time: one compiled regex over the block, counting in C, the line parser as fallback.

Every line of a block falls in one of five shapes: an azmlinfsrv summary line (S), a summary line
directly followed by its gunicorn.access twin (P), a plain gunicorn/nginx access line (A), a
gunicorn.access line of the inference server's format with no summary before it (T: what a server
without azmlinfsrv summaries, or one whose summaries went elsewhere, logs), or any other line (O,
handed to `parse_line`, the reference). The shapes are strict enough that the
reference parser reads each S/P/A/T line exactly as the regex does (tests/traffic/test_fast_equivalence.py).
Rows are counted with `collections.Counter` over tuples, timestamps are parsed once per distinct
second, a T line's rest once per distinct text. Where order matters (a summary whose twin comes later,
a first excerpt for a failing status, client errors) the piece goes through `LineParser.feed` line by
line, as before; pieces are cut so that a summary and its twin stay together.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections import Counter
from itertools import chain, filterfalse, repeat
from operator import ge, itemgetter, mul, truediv
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from doctor.logs import Range, iter_blocks, iter_mapped

from doctor.traffic.parse import (
    ENVOY_MARK,
    HEALTH_PATHS,
    LOOKS_ACCESS,
    MAX_LINE_BYTES,
    SUMMARY,
    TWIN_PID,
    LineParser,
    Ordered,
    clf_second,
    has_client_error,
    is_health,
    iso_second,
    parse_line,
)
from doctor.traffic.stats import BUCKET, Accumulator

PIECE_BYTES = 256 * 1024  # rows of one piece at a time: bounded memory (larger pieces are no faster)
VECTOR_BYTES = 1024 * 1024  # what the NumPy pass takes at a time: as fast as whole blocks, a quarter of the memory
# what the C pass takes at a time: it reads a piece where it lies, and its cost per call (the counts' tables made and
# handed back, merged here) was a tenth of its work on a BentoML log in 1 MiB pieces; one that needs order is tried
# again in VECTOR_BYTES pieces
NATIVE_BYTES = 4 * 1024 * 1024
VECTOR_MIN_BYTES = 64 * 1024  # a smaller log (or its last block) is counted by the regex: NumPy's cost per call is fixed
SMALL_PIECE_BYTES = 32 * 1024  # a piece that needs order is retried in these: few lines go one by one
CACHE_ENTRIES = 50_000  # per cache of parsed texts (rests, seconds, latencies): ~10 MB each at most, then cleared

_DT = rb"(?:19[7-9]|[2-9]\d\d)\d-\d\d-\d\d"  # from 1970: int(timestamp) is then the floor second
_HMS = rb"\d\d:\d\d:\d\d"
# Both server shapes start with the same time and `[pid] `: matched once, then either rest (S, P or T).
_PREFIX = (rb"(" + _DT + rb"[T ]" + _HMS + rb")(?:\.\d{1,9}Z " + _DT + rb" " + _HMS + rb")?,\d{1,9} [A-Z] "
           rb"\[(?P<pid>\d+)\] ")
_S = (rb"azmlinfsrv - ([A-Z]+ (?P<path>/[^\s\"]*)) (?P<st>\d{3}) (\d+(?:\.\d+)?)ms"
      rb"(?:[ \t][^\r\n]*)?\r?\n")
_TWIN = (rb"(?:" + _DT + rb"T" + _HMS + rb"\.\d{1,9}Z )?" + _DT + rb" " + _HMS + rb",\d{1,9} [A-Z] "
         rb"\[(?P=pid)\] (g)unicorn\.access - [\w.:]+ [^\s\[]+ [^\s\[]+ \[[^\]\r\n]*\] "
         rb"\"[A-Z]+ (?P=path)(?: HTTP/[\d.]+)?\" (?P=st) (?:\d+|-)[^\r\n\[]*\r?\n")
_T = (rb"gunicorn\.access - [\w.:]+ [^\s\[]+ [^\s\[]+ \[[^\]\r\n]*\] "
      rb"\"([A-Z]+ ([^\s\"\[]+))(?: HTTP/[\d.]+)?\" (\d{3}|-) (?:\d+|-) \"[^\"\[\r\n]*\" \"[^\"\[\r\n]*\""
      rb"(?: (\d+\.\d+))?\r?\n")
# An access line: gunicorn's default (combined) or common format, a front-end line with its request time,
# ingress-nginx's default format (`$request_length $request_time [$proxy_upstream_name] ...`), each maybe after
# a `--timestamps` prefix (whose second, not the bracketed one, is the request's time, as `line_time` reads it).
_A = (rb"(?:(" + _DT + rb"T" + _HMS + rb")(?:\.\d{1,9})?Z )?"
      rb"[\w.:]+ [^\s\[]+ [^\s\[]+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
      rb"\"([A-Z]+ [^\s\"\[]+)(?: HTTP/[\d.]+)?\" (\d{3}|-) (?:\d+|-)(?: \"[^\"\[\r\n]*\" \"[^\"\[\r\n]*\")?"
      rb"(?: (?:\d+ )?(\d+\.\d+)(?: \[[^\r\n]*)?)?\r?\n")
_O = rb"([^\n]*)\n"
T_REST = re.compile(_T)
# A line starting with a server time never matches _A (`[\w.:]+ ` stops at the first `-`), a prefixed access
# line never matches the server shapes (`,ms` must follow the second): the order is free.
# A T line is taken whole here (its rest repeats, second after second) and its rest parsed once per distinct
# text with T_REST; a rest T_REST does not take makes the line an O line (prefix + rest).
ROWS = re.compile(rb"(" + _PREFIX + rb")(?:" + _S + rb"(?:" + _TWIN + rb")?|(gunicorn\.access - [^\n]*\n))|"
                  + _A + b"|" + _O)
# row: 0 prefix, 1 sec, 2 pid (S, P and T) | 3 method+path, 4 path, 5 status, 6 ms, 7 twin (S, P) | 8 rest (T)
#      | 9 prefix second, 10 time, 11 method+path, 12 status, 13 rt (A) | 14 other
_COUNT_KEY = itemgetter(1, 2, 3, 5, 7, 9, 10, 11, 12, 8)
_GROUP_S, _GROUP_A = itemgetter(3, 5), itemgetter(11, 12)
_OTHER = itemgetter(14)
_MAY_COUNT = (b'] "', b'" ', b"gunicorn.access - ", b"azmlinfsrv - ", b" (status=", ENVOY_MARK)


class FastPass:
    """One source's requests counted a piece at a time into `acc`, with `parser` as oracle and fallback."""

    def __init__(self, acc: Accumulator, parser: LineParser, source: str) -> None:
        self.acc, self.parser, self.source = acc, parser, source
        self._seconds: dict[bytes, int | None] = {}
        self._iso, self._clf = SecondCache(iso_second, 17), SecondCache(clf_second, 18)
        self._tables: dict[float, tuple[dict[bytes, tuple[int, bool] | None], dict[bytes, float]]] = {}
        self._health: dict[bytes, bool] = {}
        self._rests: dict[bytes, tuple[bytes, bytes, bytes, bytes] | None] = {}
        self._native: Any = False  # doctor.traffic.native (None: not built, or turned off)
        self._vector: Any = False  # doctor.traffic.vector once a piece is large enough (None: not installed)
        self.clock: Any = None  # the block pass's cache of parsed minutes
        self._held = b""  # a summary line at the end of the last block: counted with the next (its twin is there)

    def feed_stream(self, stream: BinaryIO, cuts: list[int] | None = None, length: int | None = None,
                    mapped: bool = False) -> None:
        """Count every request of a stream, or of its next `length` bytes (`iter_blocks`; its `cuts`), then `flush`.
        With the C pass each block is counted in the reading buffer it was read into: no copy of the log, no fresh
        memory per block. `mapped`: a regular file is read through a mapping (`iter_mapped`: in a forked child only,
        which a file cut shorter meanwhile kills)."""
        if mapped:
            spans = iter_mapped(stream, length, cuts=cuts)
        else:
            spans = ((view.obj, 0, len(view)) for view in
                     iter_blocks(stream if length is None else Range(stream, length), cuts=cuts))
        for data, start, stop in spans:
            self._feed_span(data, start, stop)
        self.flush()

    def _feed_span(self, data: Any, start: int, stop: int) -> None:
        """A block, data[start:stop]: counted where it lies with the C pass, else copied out."""
        if self._engine(stop - start) is self._native and self._native is not None:
            self._feed_view(data, stop, start)
        else:
            self.feed_block(bytes(data[start:stop]))

    def feed_block(self, block: bytes) -> None:
        """Count every request of a block of whole lines: in NumPy when it is installed and the block allows,
        else a piece at a time with the regex below. Call `flush` after the last block."""
        if self._held:
            block, self._held = self._held + block, b""
        last = block.rfind(b"\n", 0, len(block) - 1) + 1
        if last and block.find(b"azmlinfsrv - ", last) >= 0:  # a summary whose twin starts the next block
            block, self._held = block[:last], block[last:]
        self._count(block)

    def _feed_view(self, data: Any, stop: int, begin: int = 0) -> None:
        """`feed_block` of data[begin:stop] (a reading buffer's block, or a mapping's) with the C pass, counted
        where it lies: only the line held from the last block and the lines that complete it are copied."""
        start = begin
        if self._held:  # the held summary with the next line (its twin), and any summaries that follow it
            start = data.find(b"\n", begin, stop) + 1
            while begin < start < stop and data.find(b"azmlinfsrv - ", max(data.rfind(b"\n", begin, start - 1) + 1, begin),
                                                     start) >= 0:
                start = data.find(b"\n", start, stop) + 1
            start = start if start > begin else stop
            held, self._held = self._held + bytes(data[begin:start]), b""
            self._count(held)
        last = data.rfind(b"\n", start, stop - 1) + 1
        if last > start and data.find(b"azmlinfsrv - ", last, stop) >= 0:  # a summary whose twin starts the next block
            self._held, stop = bytes(data[last:stop]), last
        self._count(data, start, stop)

    def flush(self) -> None:
        """Count the line held back from the last block."""
        held, self._held = self._held, b""
        if held:
            self._count(held)

    def _count(self, block: bytes | bytearray, start: int = 0, stop: int | None = None) -> None:
        """The whole lines block[start:stop], a piece at a time with the block pass (the C pass reads a piece where
        it lies, even in a reading buffer), with the regex where there is none or a piece needs order (on bytes:
        a reading buffer's piece is copied out for it)."""
        stop = len(block) if stop is None else stop
        engine = self._engine(stop - start)
        if engine is None:
            self._regex(*_owned(block, start, stop))
            return
        size = NATIVE_BYTES if engine is self._native else VECTOR_BYTES
        for begin, end in _pieces(block, start, stop, size):
            self._block_piece(engine, block, begin, end, size > VECTOR_BYTES)

    def _block_piece(self, engine: Any, block: bytes | bytearray, begin: int, end: int, again: bool) -> None:
        """block[begin:end] with the block pass; a piece that needs order with the regex, or (`again`) in
        VECTOR_BYTES pieces first (those that need none still go to the block pass)."""
        try:
            if engine is self._native:
                self.acc.merge(engine.count_block(self, block, begin, end))
            else:
                self.acc.merge(engine.count_block(self, bytes(block[begin:end])))
        except Ordered:
            if not again or end - begin <= VECTOR_BYTES:
                self._regex(*_owned(block, begin, end))
                return
            for small_begin, small_end in _pieces(block, begin, end, VECTOR_BYTES):
                self._block_piece(engine, block, small_begin, small_end, False)

    def _engine(self, size: int) -> Any:
        """The block pass for a block of `size` bytes: doctor.traffic.native (C) when it was built; else
        doctor.traffic.vector (NumPy) for blocks of VECTOR_MIN_BYTES or more, imported on the first one (small
        logs never import NumPy); else None (the regex pass). Each is imported once (False: not yet)."""
        if self._native is False:
            self._native = native_module()
            if self._native is not None:
                self.clock = self._native.Clock()
        if self._native is not None:
            return self._native
        if size < VECTOR_MIN_BYTES:
            return None
        if self._vector is False:
            self._vector = vector_module()
            self.clock = self._vector.Clock() if self._vector else None
        return self._vector

    def _regex(self, block: bytes, start: int, stop: int) -> None:
        """Lines from `start` to `stop` a piece at a time with the regex (pieces that need order line by line)."""
        for start, end in _pieces(block, start, stop, PIECE_BYTES):
            try:
                self.acc.merge(self._piece(block, start, end))
            except Ordered:
                self._retry(block, start, end)

    def _retry(self, block: bytes, start: int, end: int) -> None:
        """A piece that needs order, in small pieces: only those that need it go line by line."""
        for small_start, small_end in _pieces(block, start, end, SMALL_PIECE_BYTES):
            try:
                self.acc.merge(self._piece(block, small_start, small_end))
            except Ordered:
                self._ordered(block[small_start:small_end])

    def _ordered(self, piece: bytes) -> None:
        for line in piece.splitlines():
            request = self.parser.feed(line)
            if request is not None and not is_health(request):
                self.acc.add(request, self.source, line)

    def _piece(self, block: bytes, start: int, end: int) -> Accumulator:
        if has_client_error(block, start, end):
            raise Ordered  # client errors (probe logs): rare, per line
        rows = ROWS.findall(block, start, end)
        tmp = Accumulator(timeout_ms=self.acc.timeout_ms)
        lone, lone_twins, twin_times, unread = self._counts(Counter(map(_COUNT_KEY, rows)), tmp)
        reordered = self._twins(rows, lone, lone_twins)
        self._others(rows, tmp, lone, unread)
        self._latencies(rows, tmp)
        self._twin_latencies(twin_times, tmp)
        self.check_excerpts(tmp)
        if lone:
            self.parser.remember(_last_summaries(rows))
        elif reordered is not None:
            self.parser.reorder(reordered)
        return tmp

    def _counts(self, keys: Counter[tuple[bytes, ...]],
                tmp: Accumulator) -> tuple[bool, set[tuple[bytes, str, int]], Counter[tuple[bytes, ...]], bool]:
        """Requests, statuses and per-second counts of the S/P/A/T rows. Also: whether a lone summary was seen,
        the keys of the T rows, their (method+path, status, request time) counts, whether a T rest was unread."""
        lone, unread = False, False
        lone_twins: set[tuple[bytes, str, int]] = set()
        twin_times: Counter[tuple[bytes, ...]] = Counter()
        for (sec, pid, mp_s, st_s, twin, stamp_a, time_a, mp_a, st_a, rest), n in keys.items():
            if st_s:
                lone = lone or not twin
                second, status, mp = self._second(sec, self._iso), int(st_s), mp_s
            elif time_a:
                second = self._second(stamp_a, self._iso) if stamp_a else None
                if second is None:  # no prefix, or one `line_time` cannot read: the bracketed time
                    second = self._second(time_a, self._clf)
                status, mp = 0 if st_a == b"-" else int(st_a), mp_a
            elif rest:
                fields = self._rest(rest)
                if fields is None:
                    unread = True  # read as an O line by `_others`
                    continue
                mp, path, st_t, rt = fields
                second, status = self._second(sec, self._iso), 0 if st_t == b"-" else int(st_t)
                if second is None:
                    raise Ordered  # the reference then reads the time in brackets: rare, per line
                lone_twins.add((pid, path.decode("utf-8", "replace"), status))
                if rt:
                    twin_times[(mp, st_t, rt)] += n
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
        return lone, lone_twins, twin_times, unread

    def _rest(self, rest: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
        """(method+path, path, status, request time) of a T line's rest, once per distinct rest; None if not a T."""
        try:
            return self._rests[rest]
        except KeyError:
            if len(self._rests) > CACHE_ENTRIES:
                self._rests.clear()  # bounded on logs whose rests never repeat
            match = T_REST.fullmatch(rest)
            fields = self._rests[rest] = match.groups(b"") if match else None  # type: ignore[assignment]
            return fields

    def _twins(self, rows: list[tuple[bytes, ...]], lone: bool,
               lone_twins: set[tuple[bytes, str, int]]) -> list[tuple[bytes, str, int]] | None:
        """The pending deque after the piece's summary+twin pairs, when they change its order; else None.

        A pair appends its key and removes the first equal one: with the deque short of full, that moves
        an equal key already pending to the end and leaves everything else as it was."""
        pending = self.parser.pending_keys()
        if not (pending or lone):
            return None
        if lone_twins and (lone or not lone_twins.isdisjoint(pending)):
            raise Ordered  # a lone twin that may be a pending summary's: only order can tell
        keys = [(r[2], r[4].decode(), int(r[5])) for r in rows if r[7]]
        if keys and (lone or len(pending) >= LineParser.PENDING):
            raise Ordered
        if not keys or not pending or set(pending).isdisjoint(keys):
            return None
        order = list(pending)
        for key in keys:
            if key in order:
                order.remove(key)
                order.append(key)
        return order

    def _others(self, rows: list[tuple[bytes, ...]], tmp: Accumulator, lone: bool, unread: bool) -> None:
        """Lines of no fast shape, read by the reference parser; order-dependent ones send the piece back."""
        texts: Iterable[bytes] = filter(None, map(_OTHER, rows))
        if unread:  # T rows whose rest is not of the T shape: whole lines for the reference
            texts = chain(texts, (r[0] + r[8] for r in rows if r[8] and self._rest(r[8]) is None))
        self.count_lines(texts, tmp, lone or bool(self.parser.pending_keys()))

    def count_lines(self, texts: Iterable[bytes], tmp: Accumulator, twins_possible: bool,
                    marked: bool = False) -> None:
        """Lines no fast shape took (each text one or more whole lines), read by the reference parser; raises
        Ordered for a summary line, or a twin line when twins are possible (order matters for those). `marked`:
        the caller (the C pass) handed back only lines holding a mark. Leaving out a line without a mark is only
        a saving: no pattern of the reference (nor LOOKS_ACCESS) matches a line without one."""
        strict = self.parser.strict
        look = not strict and not marked
        if look:  # a container log: only lines with an access-line mark can count, found with bytes.find
            texts = _marked(b"\n".join(texts))
        for text in texts:
            for line in text.splitlines():
                line = line[:MAX_LINE_BYTES]  # what the reference reads of a line
                if look and not any(mark in line for mark in _MAY_COUNT):
                    continue
                if not line.strip():
                    continue
                request = parse_line(line)
                if request is None:
                    tmp.malformed += bool(strict or LOOKS_ACCESS.search(line))
                elif SUMMARY.search(line) or (twins_possible and TWIN_PID.search(line)):
                    raise Ordered
                elif not is_health(request):
                    tmp.add(request, self.source, line)

    def _latencies(self, rows: list[tuple[bytes, ...]], tmp: Accumulator) -> None:
        """The latency histogram of S/P rows (ms) and A rows with a request time (s), counted per bucket in C."""
        for column, group, scale in ((6, _GROUP_S, 1.0), (13, _GROUP_A, 1000.0)):
            texts = list(map(itemgetter(column), rows))
            distinct = set(texts)
            distinct.discard(b"")
            if not distinct:
                continue
            table, values = self._table(distinct, scale)
            keys = Counter(zip(map(group, rows), map(table.__getitem__, texts)))
            for ((mp, code), cls), n in keys.items():
                if cls is not None and not self._is_health(mp):
                    tmp.add_counts(cls[0], cls[1], 0 if code == b"-" else int(code), n)
            if any(cls is not None and self._is_health(mp) for (mp, _), cls in keys):
                distinct = {text for (mp, _), text in zip(map(group, rows), texts) if text and not self._is_health(mp)}
            tmp.latency_max = max(tmp.latency_max, max(map(values.__getitem__, distinct), default=0.0))

    def _twin_latencies(self, times: Counter[tuple[bytes, ...]], tmp: Accumulator) -> None:
        """The latency histogram of T rows with a request time (s), from their counts."""
        if not times:
            return
        table, values = self._table({rt for _, _, rt in times}, 1000.0)
        for (mp, code, rt), n in times.items():
            if not self._is_health(mp):
                bucket, slow = table[rt]  # type: ignore[misc]
                tmp.add_counts(bucket, slow, 0 if code == b"-" else int(code), n)
                tmp.latency_max = max(tmp.latency_max, values[rt])

    def _table(self, texts: set[bytes], scale: float) -> tuple[dict[bytes, tuple[int, bool] | None], dict[bytes, float]]:
        """Latency text -> (bucket, slow) and -> clamped value, filled once per distinct text (b'' -> None)."""
        table, values = self._tables.setdefault(scale, ({}, {}))
        if len(values) > CACHE_ENTRIES:
            table.clear()  # bounded memory on logs of all-distinct latencies
            values.clear()
        new = list(filterfalse(values.__contains__, texts))  # not `texts - values.keys()`: that copies the keys
        # the accumulator's arithmetic, mapped in C: max(latency, 0.001), round(log(value) / BUCKET)
        found = list(map(max, map(mul, map(float, new), repeat(scale)), repeat(0.001)))
        values.update(zip(new, found))
        buckets = map(round, map(truediv, map(math.log, found), repeat(BUCKET)))
        table.update(zip(new, zip(buckets, map(ge, found, repeat(self.acc.timeout_ms)))))
        table[b""] = None
        return table, values

    def check_excerpts(self, tmp: Accumulator) -> None:
        """A failing status not excerpted yet needs its first line: found in order."""
        if self.acc.missing_excerpts(tmp.status):
            raise Ordered

    def _second(self, text: bytes, parse: Callable[[bytes], int | None]) -> int | None:
        try:
            return self._seconds[text]
        except KeyError:
            second = self._seconds[text] = parse(text)
            if len(self._seconds) > CACHE_ENTRIES:
                self._seconds.clear()  # bounded on logs spanning months
            return second

    def _is_health(self, mp: bytes) -> bool:
        try:
            return self._health[mp]
        except KeyError:
            method, _, path = mp.partition(b" ")
            found = self._health[mp] = method in (b"GET", b"HEAD") and path.split(b"?")[0] in HEALTH_PATHS
            return found


def resolve_engine() -> str:
    """The traffic pass that counts large logs here: `c` (the extension), `numpy`, or `regex` (neither)."""
    import importlib.util

    if native_module() is not None:
        return "c"
    if _numpy_wanted() and importlib.util.find_spec("numpy") is not None:  # found, not imported: --version stays quick
        return "numpy"
    return "regex"


def _numpy_wanted() -> bool:
    """Whether the NumPy pass may run here: not turned off (MLDOCTOR_TRAFFIC_NUMPY=0), little-endian (its words)."""
    return os.environ.get("MLDOCTOR_TRAFFIC_NUMPY", "1") != "0" and sys.byteorder == "little"


def native_module() -> Any:
    """doctor.traffic.native when its extension was built (MLDOCTOR_TRAFFIC_NATIVE=0 turns it off), else None."""
    if os.environ.get("MLDOCTOR_TRAFFIC_NATIVE", "1") == "0":
        return None
    try:
        from doctor.traffic import native
    except ImportError:
        return None
    return native


def vector_module() -> Any:
    """doctor.traffic.vector when NumPy is installed (MLDOCTOR_TRAFFIC_NUMPY=0 turns it off), else None."""
    if not _numpy_wanted():
        return None
    try:
        from doctor.traffic import vector
    except ImportError:
        return None
    return vector


class SecondCache:
    """Epoch seconds of time texts, parsed once per distinct minute (`:ss` added to the minute's epoch)."""

    def __init__(self, parse: Callable[[bytes], int | None], at: int) -> None:
        self.parse, self.at = parse, at  # at: where `ss` starts in the text
        self.minutes: dict[bytes, int | None] = {}

    def __call__(self, text: bytes) -> int | None:
        """The epoch second of `text`, exactly as the reference reads it."""
        ss = text[self.at:self.at + 2]
        if not (ss.isdigit() and ss < b"60"):
            return self.parse(text)  # an impossible second: the reference says None, let it say so
        minute = text[:self.at] + b"00" + text[self.at + 2:]
        try:
            base = self.minutes[minute]
        except KeyError:
            base = self.minutes[minute] = self.parse(minute)
            if len(self.minutes) > 100_000:
                self.minutes.clear()
        return None if base is None else base + int(ss)


def _owned(block: bytes | bytearray, start: int, stop: int) -> tuple[bytes, int, int]:
    """(bytes, start, stop) of block[start:stop]: a bytes block as it is, a reading buffer's span copied out."""
    if isinstance(block, bytes):
        return block, start, stop
    return bytes(block[start:stop]), 0, stop - start


def _marked(text: bytes) -> list[bytes]:
    """The lines of `text` holding one of the marks of a line that may count (_MAY_COUNT), in order."""
    spans: set[tuple[int, int]] = set()
    for mark in _MAY_COUNT:
        at = text.find(mark)
        while at >= 0:
            end = text.find(b"\n", at)
            end = len(text) if end < 0 else end
            spans.add((text.rfind(b"\n", 0, at) + 1, end))
            at = text.find(mark, end)
    return [text[start:end] for start, end in sorted(spans)]


def _last_summaries(rows: list[tuple[bytes, ...]]) -> list[tuple[bytes, str, int]]:
    """The pending keys of the last lone summary rows, oldest first (the deque keeps 64)."""
    found: list[tuple[bytes, str, int]] = []
    for row in reversed(rows):
        if row[5] and not row[7]:
            found.append((row[2], row[4].decode(), int(row[5])))
            if len(found) >= LineParser.PENDING:
                break
    return found[::-1]


EXTRA_LINES = 64  # lines a piece takes past its size so as not to end on a line of the inference server's


def _pieces(block: bytes, start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    """Spans of whole lines of about `size` bytes between `start` and `stop` (both at line starts).

    A span does not end on a summary line: its twin, next, stays with it (a pair cut in two is a lone
    summary and a lone twin, which only the line-by-line parser can match). Nor on any other line of the
    server's (`azmlinfsrv - Encountered Exception: ...`), which a summary may follow: the span takes up to
    EXTRA_LINES lines more until one that is not (a span still ending on one is counted in order: only slower)."""
    while start < stop:
        cut, extra = block.find(b"\n", start + size, stop), 0
        while cut >= 0 and extra < EXTRA_LINES and block.find(b"azmlinfsrv - ", block.rfind(b"\n", start, cut) + 1,
                                                             cut) >= 0:
            cut, extra = block.find(b"\n", cut + 1, stop), extra + 1
        end = stop if cut < 0 else cut + 1
        yield start, end
        start = end
