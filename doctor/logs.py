"""Streaming over log bytes: bounded chunks of whole lines, and timestamps read off a line."""

from __future__ import annotations

import io
import os
import re
import stat
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, Iterator

# A log larger than this is scanned from its tail (the end is where a failure is); MLDOCTOR_MAX_LOG_BYTES overrides.
MAX_LOG_BYTES = int(os.environ.get("MLDOCTOR_MAX_LOG_BYTES", str(4 * 1024**3)))
CHUNK_BYTES = 4 * 1024 * 1024  # per read: bounded memory (the scan holds two ~9 MiB buffers), no slower than larger
MAX_LINE_BYTES = 1024 * 1024  # a longer "line" is cut: a hostile log without newlines stays bounded

# `docker logs --timestamps` / `kubectl logs --timestamps`: RFC 3339 with nanoseconds, then a space.
_ISO = re.compile(
    rb"^\[?(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?\]?"
)
# gunicorn access log `[25/Nov/2026:15:31:27 +0000]`
_CLF = re.compile(rb"\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
_MONTHS = {m: i for i, m in enumerate(
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"], 1)}


class Range(io.RawIOBase):
    """At most `length` bytes of an open stream, from where it stands (closing it closes the stream)."""

    def __init__(self, handle: BinaryIO, length: int) -> None:
        self.handle, self.left = handle, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)[: self.left]
        got = self.handle.readinto(view) if len(view) else 0  # type: ignore[attr-defined]
        self.left -= got or 0
        return got or 0

    def read(self, size: int | None = -1) -> bytes:
        """Read straight from the stream (no copy through a buffer, as RawIOBase.read would make)."""
        want = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(want) if want else b""
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()
        super().close()


try:  # the C extension `pip install .` builds where a C compiler is found (setup.py)
    from doctor._native import newlines as _newlines
except ImportError:
    _newlines = None


def count_newlines(data: Any, start: int, stop: int) -> int:
    """data.count(b"\\n", start, stop) of a bytes-like object; in C without the GIL where it was built (~4x
    faster, and the scan's two threads count at once)."""
    if _newlines is not None:
        if start < 0 or stop < 0:  # counted from the end, as bytes.count counts them
            start, stop, _ = slice(start, stop).indices(len(data))
        return int(_newlines(data, start, stop))
    return int(data.count(b"\n", start, stop))


def iter_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES, *, cuts: list[int] | None = None) -> Iterator[bytes]:
    """Blocks of whole lines (each ends with a newline, but maybe the last), in bounded memory. A line longer than
    MAX_LINE_BYTES is cut (into `cuts`, when given, goes a 1 for each cut). Read into reused buffers
    (`iter_blocks`), each block copied out once: a fresh `read` per block cost ~3x as much (its new memory's page
    faults, and two copies)."""
    for view in iter_blocks(stream, chunk_bytes, cuts=cuts):
        yield bytes(view)


def buffer_bytes(chunk_bytes: int = CHUNK_BYTES) -> int:
    """The size of each of `iter_blocks`' buffers: a read, and the partial line carried from the last one."""
    return chunk_bytes + max(chunk_bytes, MAX_LINE_BYTES) + 1


def iter_blocks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES, buffers: int = 2, *,
                cuts: list[int] | None = None, pool: list[Any] | None = None, carried: bytes = b"") -> Iterator[memoryview]:
    """The blocks of `iter_chunks`, as views over `buffers` reused buffers (no copy per block).

    A view stays valid until `buffers` more views have been asked for; the partial last line is
    carried into the next buffer. Each view's `.obj` is its buffer and the view starts at offset 0.
    `pool`: the buffers to read into (each of `buffer_bytes(chunk_bytes)`; shared memory, say) instead of new ones.
    `carried`: bytes read before (less than a chunk), which the first block starts with: the reads resumed where an
    earlier pass stood (`iter_mapped`'s simulated reads), its blocks the same from there.
    """
    small = None if carried else _small_stream(stream)
    if small is not None:  # a small log (most of a bundle of many): no big buffers to allocate and zero
        if small:
            yield memoryview(bytearray(small if small.endswith(b"\n") else small + b"\n"))
        return
    if pool is None:
        pool = [bytearray(buffer_bytes(chunk_bytes)) for _ in range(buffers)]
    buffers = len(pool)
    turn, held, buf = 0, len(carried), pool[0]
    buf[:held] = carried
    while True:
        got = stream.readinto(memoryview(buf)[held:held + chunk_bytes])  # type: ignore[attr-defined]
        if not got:
            break
        end = held + got
        cut = buf.rfind(b"\n", 0, end)
        if cut < 0 and end < MAX_LINE_BYTES:
            held = end
            continue
        if cut < 0:
            buf[end] = 10  # no newline in a megabyte: cut the line rather than grow forever
            cut = end
            end += 1
            if cuts is not None:
                cuts.append(1)
        yield memoryview(buf)[: cut + 1]
        turn += 1
        nxt = pool[turn % buffers]
        held = end - cut - 1
        nxt[:held] = buf[cut + 1:end]  # copied only now: the view just given may still be in use
        buf = nxt
    if held:
        yield memoryview(bytes(buf[:held]) + b"\n")


def iter_mapped(stream: BinaryIO, length: int | None = None, chunk_bytes: int = CHUNK_BYTES, *,
                cuts: list[int] | None = None) -> Iterator[tuple[Any, int, int]]:
    """The blocks `iter_blocks` gives for the next `length` bytes of the stream (None: to its end), as (buffer, start,
    stop): buffer[start:stop] is the block. A regular file's are read where the page cache holds them, through a
    mapping of the file rather than copied by `read` (the traffic count's children: a tenth of their work was that
    copy), to its end as it stands now; any other stream, or a stretch under MAX_LINE_BYTES, is read. The blocks end
    where `iter_blocks`' end (the same reads simulated), so a line over MAX_LINE_BYTES is cut at the same place (that
    block, and a last line without its newline, are copies). A block is valid until the next is asked for. A file
    cut shorter while mapped kills the process that reads it (SIGBUS): only a forked child of the check reads
    through this, whose death the check survives (`doctor.follow.in_child`)."""
    import mmap

    base = stream.tell() if regular_file(stream) else None
    size = 0 if base is None else os.fstat(stream.fileno()).st_size - base
    size = size if length is None else max(0, min(size, length))
    if base is None or size < MAX_LINE_BYTES:  # read, as `iter_blocks` reads it
        for view in iter_blocks(stream if length is None else Range(stream, length), chunk_bytes, cuts=cuts):
            yield view.obj, 0, len(view)
        return
    start, read_to = 0, 0  # the block's start, and how far the simulated reads have gone, from `base`
    window: Any = None
    try:
        while read_to < size:
            read_to = min(read_to + chunk_bytes, size)
            first = (base + start) // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
            if window is not None:
                _unmap(window)
            window = mmap.mmap(stream.fileno(), base + read_to - first, access=mmap.ACCESS_READ, offset=first)
            lo, hi = base + start - first, base + read_to - first
            cut = window.rfind(b"\n", lo, hi)
            if cut < 0 and read_to - start < MAX_LINE_BYTES:
                continue  # no line end yet: read on, as `iter_blocks` does
            if cut < 0:  # no newline in a megabyte: cut the line, as `iter_blocks` does
                if cuts is not None:
                    cuts.append(1)
                yield window[lo:hi] + b"\n", 0, hi - lo + 1
                start = read_to
                continue
            yield window, lo, cut + 1
            start = first + cut + 1 - base
    finally:  # also when the reader stops early
        if window is not None:
            _unmap(window)
    if start < size:  # read where it lies (`pread`): the stream's place, shared with other processes, stays
        rest = os.pread(stream.fileno(), size - start, base + start)
        yield rest + b"\n", 0, len(rest) + 1


def regular_file(stream: Any) -> bool:
    """Whether the stream reads a regular file (one `iter_mapped` can map)."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False


def _unmap(window: Any) -> None:
    """Unmap now, unless a view of it is still held (then when that view goes)."""
    try:
        window.close()
    except BufferError:
        pass


def _small_stream(stream: BinaryIO) -> bytes | None:
    """The whole rest of a regular file shorter than a line may be (read now), or None for anything else."""
    try:
        left = os.fstat(stream.fileno()).st_size - stream.tell()
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None
    if left >= MAX_LINE_BYTES:
        return None
    data = stream.read(MAX_LINE_BYTES)
    if len(data) >= MAX_LINE_BYTES:  # it grew meanwhile: read it the usual way
        stream.seek(-len(data), io.SEEK_CUR)
        return None
    return data


def line_time(line: bytes) -> datetime | None:
    """The timestamp a log line starts with (or an access-log time inside it), as aware UTC; None if none.
    (`doctor._native.line_time` takes its place where the extension was built: the same answers, property-tested
    against this one in tests/test_line_time.py; a fifth of the rule scan's work per hit line was this parse.)"""
    match = _ISO.match(line)
    if match:
        return _iso_time(match)
    match = _CLF.search(line, 0, 200)
    if match:
        return _clf_time(match)
    return None


reference_line_time = line_time
try:
    from doctor._native import line_time  # type: ignore[no-redef]  # noqa: F811 (the same function in C)
except ImportError:  # no C compiler where mldoctor was installed
    pass


def strip_time_prefix(line: str) -> str:
    """The line without the `--timestamps` prefix Docker and kubectl add, for excerpts."""
    if len(line) > 31 and line[4] == "-" and line[10] == "T":
        head, sep, rest = line.partition(" ")
        if sep and head.endswith("Z"):
            return rest
    return line


_MINUTES: dict[tuple[bytes | None, ...], datetime | None] = {}  # a minute's time text -> its UTC start (None: no time)
_MINUTES_KEPT = 4096


def _iso_time(match: re.Match[bytes]) -> datetime | None:
    """The time (aware UTC) of an ISO-8601 match; the minute's start is parsed once per minute text (log lines come in
    time order: one parse, not one per line), then its seconds and fraction are added."""
    year, month, day, hour, minute, second, frac, zone = match.groups()
    key = (year, month, day, hour, minute, zone)
    try:
        start = _MINUTES[key]
    except KeyError:
        start = _minute_start(int(year), int(month), int(day), int(hour), int(minute), zone)
        if len(_MINUTES) >= _MINUTES_KEPT:
            _MINUTES.clear()
        _MINUTES[key] = start
    seconds = int(second)
    if start is None or seconds > 59:
        return None
    return _shifted(start, timedelta(seconds=seconds, microseconds=int((frac or b"0")[:6].ljust(6, b"0"))))


def _minute_start(year: int, month: int, day: int, hour: int, minute: int, zone: bytes | None) -> datetime | None:
    """The minute's start in UTC; None for a date that does not exist, or one that UTC puts outside years 1-9999."""
    try:
        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc) - _offset(zone)
    except (ValueError, OverflowError):
        return None


def _shifted(start: datetime, by: timedelta) -> datetime | None:
    try:
        return start + by
    except OverflowError:  # past 9999-12-31
        return None


def _offset(zone: bytes | None) -> timedelta:
    if not zone or zone == b"Z":
        return timedelta(0)
    text = zone.replace(b":", b"")
    sign = -1 if text[:1] == b"-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5]))


def _clf_time(match: re.Match[bytes]) -> datetime | None:
    """The time (aware UTC) of a common-log-format match; its minute's start parsed once per minute text, as
    `_iso_time`'s (an access line of every request reads one: this was a fifth of the scan's hit path on `mixed`)."""
    day, mon, year, hour, minute, second, zone = match.groups()
    key = (b"clf", day, mon, year, hour, minute, zone)  # apart from `_iso_time`'s keys
    try:
        start = _MINUTES[key]
    except KeyError:
        month = _MONTHS.get(mon)
        start = None if month is None else _minute_start(int(year), month, int(day), int(hour), int(minute), zone)
        if len(_MINUTES) >= _MINUTES_KEPT:
            _MINUTES.clear()
        _MINUTES[key] = start
    seconds = int(second)
    return None if start is None or seconds > 59 else _shifted(start, timedelta(seconds=seconds))


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1h`, `2d`, `1h30m` as a timedelta; ValueError when unreadable."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", text.strip()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h, 2d)")
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return timedelta(seconds=sum(float(n) * unit[u] for n, u in parts))
