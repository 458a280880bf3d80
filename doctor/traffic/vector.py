"""The traffic pass over a whole block in NumPy: no Python object per line.

Each line is classified (doctor.traffic.lines) by checks at fixed offsets from a few anchors (the line's start,
its first `[`, the quotes around the request), done as array operations over every line of the block at once,
on 32-byte windows read as four 64-bit words (doctor.traffic.swar: eight bytes tested per operation):

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
from typing import Callable

import numpy as np

from doctor.traffic.lines import Lines, Requests
from doctor.traffic.parse import (HEALTH_PATHS, NO_SECOND, Minutes, Ordered, clf_second, has_client_error, iso_second,
                                  pending_after)
from doctor.traffic.stats import BUCKET, Accumulator, Counting
from doctor.traffic.swar import I64, MASKS, U64, WIDTH, Block, flags, low_bit, masked, spread

NONE = I64(NO_SECOND)  # "no second" (the reference's None)


class Clock(Minutes):
    """Epoch seconds of fixed-width time texts, each distinct minute parsed once by the reference (`line_time`)."""

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
        bases = np.array([self.of(text[:ss] + b"00" + text[ss + 2:], parse) for text in texts], I64)
        base = np.repeat(bases, np.diff(np.append(firsts, len(at))))
        return np.where((base != NONE) & (second < 60), base + second, NONE)  # type: ignore[no-any-return]


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
    query = low_bit(flags(padded ^ spread(63)) & U64(0xFFFF) | U64(1 << 16))
    core = np.minimum(query, req.path_size[maybe])
    first, second = masked(words, core)
    hit = np.zeros(len(maybe), bool)
    for length, w0, w1 in PROBES:
        hit |= (core == length) & (first == w0) & (second == w1)
    found[maybe] = hit
    return found


def _scatter(n: int, rows: np.ndarray, values: np.ndarray, fill: object = 0) -> np.ndarray:
    out = np.full(n, fill, values.dtype)
    out[rows] = values
    return out


def count_block(fast: Counting, block: bytes) -> Accumulator:
    """The statistics of one block of whole lines, with `fast`'s parser state and caches; raises Ordered."""
    pending = list(fast.parser.pending_keys())
    if len(pending) >= fast.parser.PENDING:
        raise Ordered  # a full deque of summaries waiting for their twin: line by line
    b = Block(block)
    if has_client_error(block):
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
    mine = masked(b.window(lines.x[s.rows] + 27).words, size)
    theirs = masked(b.window(lines.x[nxt] + 27).words, size)
    paired &= (size == lines.pid_len[nxt]) & (mine[0] == theirs[0]) & (mine[1] == theirs[1])
    paired &= (a.code[where] == s.code) & (s.path_size == a.path_size[where])
    mine, theirs = masked(s.path_words, s.path_size), masked(a.path_words[where], s.path_size)
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
    return pending_after(pending, (
        ((block[pid_at:pid_at + size_at], block[path:path + path_size].decode("utf-8", "replace"), code), twins[row])
        for row, pid_at, size_at, path, path_size, code in zip(*(v[maybe].tolist() for v in (
            g.rows, lines.x[g.rows] + 27, size, g.path, g.path_size, g.code)))))


def _count(fast: Counting, b: Block, lines: Lines, s: Requests, a: Requests, tmp: Accumulator) -> None:
    """Requests, statuses, seconds and latencies of the S and A/G rows (health probes left out)."""
    clock = fast.clock
    assert clock is not None
    stamp = lines.stamped
    iso_at = np.where(stamp[s.rows], b.start[s.rows], lines.x[s.rows])
    s_sec = clock.seconds(b, iso_at, 19, 17, iso_second)
    assert a.when is not None
    clf = clock.seconds(b, a.when + 1, 26, 18, clf_second)
    iso_first = stamp[a.rows] | lines.twin[a.rows]  # the line's own time comes first, the bracketed one if unreadable
    a_sec = clf.copy()
    if iso_first.any():
        pick = np.flatnonzero(iso_first)
        rows = a.rows[pick]
        first = clock.seconds(b, np.where(stamp[rows], b.start[rows], lines.x[rows]), 19, 17, iso_second)
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
