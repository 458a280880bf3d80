"""Every line of a block classified for the NumPy traffic pass, and the fields of its request.

- S: an azmlinfsrv summary (`DATE TIME,ms L [pid] azmlinfsrv - METHOD /path STATUS MSms ...`),
- G: a `[pid] gunicorn.access - ` line of the inference server: the twin of the S line just before it (same
  pid, path and status: not a request of its own) or a lone twin (a request),
- A: a plain access line (gunicorn default/common/combined, front-end, ingress-nginx), each of them maybe after
  a `kubectl/docker --timestamps` prefix,
- anything else, or anything these checks cannot vouch for, is left to the reference parser.

Each check stands for a part of the reference's regexes (doctor.traffic.parse: SUMMARY, _ACCESS, TWIN_PID,
doctor.logs.line_time) and is at least as strict: a line it accepts is read by the reference the very same way.
"""

from __future__ import annotations

import numpy as np

from doctor.traffic.swar import (
    I64,
    U64,
    WIDTH,
    Block,
    Pattern,
    Window,
    ends,
    high_bit,
    low_bit,
    next_at,
    year_ok,
)

WORD = np.zeros(256, bool)  # `\w` of a bytes pattern
WORD[[*b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"]] = True
STAMP = Pattern(b"DDDD-DD-DDTDD:DD:DD")  # --timestamps prefix (then `Z ` or `.n{1,9}Z `)
HEAD = Pattern(b"DDDD-DD-DD DD:DD:DD,DDD . [")  # the server's logging time, level, `[`
AZML, GUNI = Pattern(b"] azmlinfsrv - "), Pattern(b"] gunicorn.access - ")
CLF = Pattern(b"[DD/.../DDDD:DD:DD:DD .DDDD] \"")  # access-log time, then the request's opening quote
HTTP = Pattern(b" HTTP/D.D\"")
STATUS = Pattern(b"\" DDD ")
CODE_AFTER = Pattern(b" DDD ")


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
        ok = STAMP.test(first.words) & year_ok(first)
        ok &= (first.col(19) == 90) | ((first.col(19) == 46) & (whole >= 1) & (whole <= 9))
        ok &= (first.col(zed) == 90) & (first.col(zed + 1) == 32)
        self.stamped[rows] = ok
        self.x[rows] = np.where(ok, self.b.start[rows] + zed + 2, self.b.start[rows])

    def _heads(self, rows: np.ndarray) -> None:
        """Which of `rows` start (after any prefix) with the server's time, level and `[pid] ` + logger name."""
        b = self.b
        head = b.window(self.x[rows])
        ok = HEAD.test(head.words) & year_ok(head) & ((head.col(24) - 65).astype(np.uint8) < 26)
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
        gap = low_bit(at_path.spaces())  # the path ends at the first space (within the window)
        ok &= (at_path.col(0) == 47) & (gap < WIDTH) & (path + gap < b.end[i])
        tail = b.window(path + gap)
        ok &= CODE_AFTER.test(tail.words)
        ms = b.window(path + gap + 5)
        whole = ms.run(0)
        dot = ms.col(whole) == 46
        frac = np.where(dot, ms.run(whole + 1), 0)
        unit = whole + np.where(dot, 1 + frac, 0)
        ok &= (whole >= 1) & (~dot | (frac >= 1)) & (whole <= 8) & (frac <= 8)
        ok &= (ms.col(unit) == 109) & (ms.col(unit + 1) == 115) & ends(ms.col(unit + 2))
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
        last = high_bit(words & U64(0x7FFFFFFF))
        user = high_bit(words & ((U64(1) << np.maximum(last, 0).astype(U64)) - U64(1)))
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
        ok &= next_at(b.digit_brackets, when + 1) > end  # no `[pid] ...` in the rest
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
        ok &= ~short | (low_bit(at_path.spaces()) >= stop - path)
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
        ok = (c0 == 10) | number | (quoted & ends(after))
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
