"""The traffic pass over a block in C (doctor/_native.c): one pass per line, no Python object per line.

It reads the lines the NumPy pass reads (doctor.traffic.lines: azmlinfsrv summaries with their gunicorn.access
twins, plain gunicorn/front-end/ingress access lines, each maybe after a `--timestamps` prefix) with the same
checks, at least as strict as the reference parser's regexes, and hands every other line back to be read by
the reference (`parse_line`). Where order matters it raises `Ordered`, as the NumPy pass does, and the caller
counts the block line by line: a summary whose twin is not the next line, a lone twin of a summary still
waiting for its twin, a full deque of such summaries, a probe's client errors, a failing status with no excerpt
yet. A minute of time text is parsed once by the reference's own `line_time`.

The extension is built by `pip install .` where a C compiler is found (setup.py: optional); without it the
NumPy pass counts the same statistics. `mldoctor --version` says which pass is in use.
"""

from __future__ import annotations

from doctor._native import count as native_count  # ImportError when the extension was not built
from doctor.traffic.parse import Minutes, Ordered, clf_second, iso_second, pending_after
from doctor.traffic.stats import BUCKET, Accumulator, Counting

class Clock(Minutes):
    """Epoch seconds of a minute's time text (its seconds `00`), each parsed once by the reference."""

    def minute(self, text: bytes, clf: bool) -> int:
        """The extension's callback: the epoch second of the minute `text` (ISO-8601, or the common log format's
        without brackets), NO_SECOND (which the extension knows) where the reference reads none."""
        return self.of(text, clf_second if clf else iso_second)


def count_block(fast: Counting, block: bytes | bytearray, start: int = 0, end: int | None = None) -> Accumulator:
    """The statistics of one block of whole lines (block[start:end], read where it lies), with `fast`'s parser
    state and caches; raises Ordered."""
    end = len(block) if end is None else end
    pending = list(fast.parser.pending_keys())
    if len(pending) >= fast.parser.PENDING:
        raise Ordered  # a full deque of summaries waiting for their twin: line by line
    clock = fast.clock
    assert isinstance(clock, Clock)
    found = native_count(memoryview(block)[start:end], fast.parser.strict, clock.minute, fast.acc.timeout_ms, BUCKET, bool(pending))
    if found is None:
        raise Ordered  # a summary whose twin is not the next line, or a probe's client errors (`error=`)
    tmp = Accumulator(timeout_ms=fast.acc.timeout_ms)
    (tmp.requests, status, per_second, per_second_503, buckets, buckets_ok, tmp.latency_count, tmp.slow,
     tmp.latency_max, others, twins, firsts) = found
    order = pending_after(pending, (((pid, path.decode("utf-8", "replace"), status), paired)
                                    for pid, path, status, paired in twins)) if pending else None
    tmp.status.update(status)
    tmp.per_second.update(per_second)
    tmp.per_second_503.update(per_second_503)
    tmp.latency_buckets.update(buckets)
    tmp.latency_ok.update(buckets_ok)
    if others:
        fast.count_lines(others, tmp, bool(pending), marked=True)
    missing = fast.acc.missing_excerpts(tmp.status)
    if any(code not in firsts or code in tmp.excerpt_codes for code in missing):
        raise Ordered  # a failing status first seen on a line the reference read: only an order tells which came first
    for code in sorted(missing, key=lambda code: firsts[code][0]):  # the block's first line of each, in order
        at, stop = firsts[code]
        fast.acc.excerpt(code, fast.source, bytes(block[start + at:start + stop]))
    if order is not None:
        fast.parser.reorder(order)
    return tmp
