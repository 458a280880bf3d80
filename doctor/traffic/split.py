"""One large log's traffic counted in two halves at once, one per core, with the statistics a count in order gives.

The log is cut at a line start near its middle. The first half is counted as usual. The second half is counted from
a fresh start, keeping the first line of every failing status. The two are exact together when the first half
ends with no request summary waiting for its twin (the only thing a count carries from one line to the next,
besides excerpts) and the second half had no line long enough to be cut (where a line over MAX_LINE_BYTES is cut
depends on where reading began). Otherwise the second half is counted again here, in order, continuing from the
first half's state (or the whole log is, when only that is exact). Either way the result is the count in order's:
`tests/traffic/test_split.py` compares them on generated logs cut at every kind of line.
"""

from __future__ import annotations

from dataclasses import dataclass

from doctor.evidence import LogSource
from doctor.logs import MAX_LINE_BYTES
from doctor.traffic.parse import LineParser
from doctor.traffic.stats import MAX_EXCERPTS, Accumulator

SPLIT_BYTES = 64 << 20  # a log this large is counted in two halves (each then costs more than the fork)
EVERY_STATUS = 1000  # excerpts a second half keeps: one per status (statuses are 0-999)


@dataclass
class Half:
    """What counting one stretch of a log gave."""

    acc: Accumulator
    parser: LineParser
    cut: bool  # a line of the stretch counted last was cut at MAX_LINE_BYTES


def middle(source: LogSource) -> int | None:
    """The start of a line near the middle of the log; None when there is none within MAX_LINE_BYTES of it."""
    if not source.size:
        return None
    half = source.size // 2
    try:
        with source.open() as stream:
            stream.seek(half)
            data = stream.read(MAX_LINE_BYTES)
    except (OSError, ValueError, AttributeError):  # a stream that cannot seek (io.UnsupportedOperation): no halves
        return None
    newline = data.find(b"\n")
    if newline < 0 or half + newline + 1 >= source.size:
        return None
    return half + newline + 1


def count_range(source: LogSource, start: int, stop: int, timeout_ms: float, later: bool,
                half: Half | None = None, mapped: bool = False) -> Half:
    """The requests of the log's bytes [start, stop), counted from a fresh start, or continuing `half`'s count.
    `mapped`: a regular file is read through a mapping (a forked child's count only: `FastPass.feed_stream`)."""
    from doctor.traffic.fast import FastPass

    if half is None:
        acc = Accumulator(timeout_ms=timeout_ms, max_excerpts=EVERY_STATUS if later else MAX_EXCERPTS)
        half = Half(acc, LineParser(strict=source.kind == "access"), False)
    counter = FastPass(half.acc, half.parser, source.name)
    cuts: list[int] = []
    with source.open() as stream:
        stream.seek(start)
        counter.feed_stream(stream, cuts, stop - start, mapped)
    half.cut = bool(cuts)  # of this stretch
    return half


def joined(source: LogSource, stop: int, first: Half | None, second: Half | None, timeout_ms: float) -> Accumulator | None:
    """The log's count from its two halves (either None when its child died); None when only a count of the whole
    log in order is exact (then the caller makes it)."""
    if first is None or (second is not None and second.cut):
        return None
    acc = first.acc
    if second is None or first.parser.pending_keys():
        if count_range(source, stop, source.size or 0, timeout_ms, False, first).cut:  # in order, from the first's
            return None  # a line was cut where a read from the log's start would not have cut it
        acc.malformed += first.parser.malformed
    else:
        acc.merge(second.acc)
        acc.merge_excerpts(second.acc)
        acc.malformed += first.parser.malformed + second.parser.malformed
    if acc.requests:
        acc.sources.append(source.name)
    return acc
