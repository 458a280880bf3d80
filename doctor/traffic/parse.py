r"""One request per access line: gunicorn's default format, the azmlinfsrv summary line, legacy and nginx logs,
uvicorn's, TorchServe's and BentoML's access lines.

Every pattern here is linear on hostile text: a line is considered up to MAX_LINE_BYTES (gunicorn refuses
request lines over 4094 bytes and header fields over 8190), a match can only start at the start of a word
(`(?<!\S)`), and the time in brackets is bounded, so a 100 KB base64 or NUL "line" costs one pass.
A container log carries each request twice (the azmlinfsrv summary with its latency, then the
gunicorn.access line); `LineParser` merges the pair into one request so nothing is counted twice.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from collections.abc import Callable, Iterable

from doctor.logs import line_time

MAX_LINE_BYTES = 16 * 1024  # what an access line can be; the rest of a longer "line" is not looked at

# azmlinfsrv >= 0.8: `2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score 200 0.918ms 19`
SUMMARY = re.compile(
    rb"\[(?P<pid>\d+)\] azmlinfsrv - (?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>\d{3}) (?P<ms>\d+(?:\.\d+)?)ms\b")
# gunicorn default / nginx combined: h l u [t] "r" s b "f" "a", then optional numbers:
# gunicorn `%(L)s` (request seconds) or ingress-nginx `$request_length $request_time [upstream] ... $upstream_response_time`
_ACCESS = re.compile(
    rb'(?<!\S)(?P<host>\S+) \S+ \S+ \[(?P<time>[^\]]{1,64})\] "(?P<method>[A-Z]{1,16}) (?P<path>\S+)(?: HTTP/[\d.]+)?" '
    rb'(?P<status>\d{3}|000|-) (?P<bytes>\d+|-)(?: "(?P<ref>[^"]*)" "(?P<ua>[^"]*)")?'
    rb"(?: (?:(?P<reqlen>\d+) )?(?P<rt>\d+\.\d+)\b)?")
# TorchServe's ACCESS_LOG line (its Session.toString(): remote address, request line, status, milliseconds), as the
# real server writes it (fixtures/servers/torchserve-healthy): `2026-12-02T17:26:48,407 [INFO ] W-9000-linear_1.0
# ACCESS_LOG - /127.0.0.1:50296 "POST /predictions/linear HTTP/1.1" 200 10`
_TORCHSERVE = re.compile(
    rb' ACCESS_LOG - (?P<host>\S{1,300}) "(?P<method>[A-Z]{1,16}) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<ms>\d{1,12})\b')
# BentoML's access line (its docs' "ClientIP:ClientPort (scheme,method,path,type,length) (status,type,length) Latency
# (trace,span,sampled)"; the real server's, fixtures/servers/bentoml-healthy): `2026-12-01T23:50:24+0000 [INFO]
# [entry_service:Linear:1] 127.0.0.1:57988 (scheme=http,method=POST,path=/predict,type=application/json,length=23)
# (status=500,type=application/json,length=74) 25.041ms (trace=...,span=...,sampled=0,service.name=Linear)`
_BENTOML = re.compile(
    rb"(?<!\S)(?P<host>\S{1,300}) \(scheme=[a-z]{1,8},method=(?P<method>[A-Z]{1,16}),path=(?P<path>[^,)\s]+)"
    rb"(?:,[^)\s]{0,300})?\) \(status=(?P<status>\d{3})(?:,[^)\s]{0,300})?\) (?P<ms>\d{1,12}(?:\.\d{1,9})?)ms\b")
# uvicorn's access line (KServe, MLServer, vLLM, FastAPI apps): `INFO:     10.0.0.5:51234 - "POST /v1/models/m:predict
# HTTP/1.1" 500 Internal Server Error` (its AccessFormatter: client address, request line, status and phrase), maybe
# behind a `(APIServer pid=N) ` or `--timestamps` prefix
_UVICORN = re.compile(
    rb'(?<!\S)(?P<host>\S{1,300}) - "(?P<method>[A-Z]{1,16}) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})(?= |$)')
# Envoy's JSON access log (Envoy Gateway's default; Istio with `accessLogEncoding: JSON`): one object a line, its keys
# in any order, e.g. vllm-project/aibrix#1920: `{…"duration":0,"method":"POST",…"response_code":503,
# "response_code_details":"no_healthy_upstream",…"start_time":"2026-02-02T10:40:54.633Z",…"x-envoy-origin-path":
# "/v1/completions",…}`. Each key read on its own (`ENVOY_MARK` first: the traffic passes hand such lines here)
ENVOY_MARK = b'"response_code":'
_ENVOY_STATUS = re.compile(rb'"response_code":(?P<status>\d{3})(?!\d)')
_ENVOY_METHOD = re.compile(rb'"method":"(?P<method>[A-Z]{1,16})"')
_ENVOY_PATH = re.compile(rb'"(?:x-envoy-origin-path|path)":"(?P<path>/[^"\\]{0,2000})"')
_ENVOY_MS = re.compile(rb'"duration":(?P<ms>\d{1,12})(?!\d)')
_ENVOY_TIME = re.compile(rb'"start_time":"(?P<time>[^"\\]{1,64})"')
_KV_TIME = re.compile(rb"\b(?:rt|request_time)=\"?(?P<rt>\d+(?:\.\d+)?)")
_UPSTREAM = re.compile(rb"\] \S+ \S+ \S+ (?P<urt>\d+\.\d+) \d{3}")
TWIN_PID = re.compile(rb"\[(\d+)\] gunicorn\.access - ")
_CLIENT_ERROR = re.compile(rb"error=(?P<err>[a-z_]+)")
LOOKS_ACCESS = re.compile(rb'" \d{3} |gunicorn\.access - |azmlinfsrv - [A-Z]+ /| \(status=\d{3}|"response_code":\d{3}')
HEALTH_PATHS = frozenset({b"/", b"/healthz", b"/health", b"/live", b"/ready", b"/liveness", b"/readiness"})


class Ordered(Exception):
    """A stretch of lines the block passes leave to the line-by-line parser (order matters in it)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One scoring request as a log saw it; status 0 is a client-side failure (no HTTP answer)."""

    time: float | None  # epoch seconds
    method: str
    path: str
    status: int
    latency_ms: float | None = None
    client_error: str = ""  # probe: timeout | empty_reply | reset | refused; client output also connect_timeout


CLIENT_ERROR_MARK = b"error="
_EQUALS_TRIED = 64  # `=` looked at one by one before the plain search takes over (a block of `====` costs no more)


try:  # the C extension (setup.py builds it where a C compiler is found)
    from doctor._native import find as _find
except ImportError:
    _find = None


def has_client_error(block: bytes | bytearray, start: int = 0, end: int | None = None) -> bool:
    """Whether block[start:end] holds `error=` (a probe's client errors: the block is then counted line by line).
    Found from each `=`: `bytes.find` of the whole word read a 4 MB block at ~1.7 GB/s (it was a quarter of the
    traffic pass over `mixed`), a search for one byte at memchr's speed. In C where it was built; in Python the plain
    search takes over after _EQUALS_TRIED of them (each a Python step)."""
    end = len(block) if end is None else end
    if _find is not None:  # in C: memchr for each `=`, however many (bytes.find's two-way search: ~0.5 s a GB)
        start = max(0, min(start, len(block)))
        return _find(block, start, max(start, min(end, len(block))), CLIENT_ERROR_MARK) >= 0
    at = block.find(b"=", start + len(CLIENT_ERROR_MARK) - 1, end)
    for _ in range(_EQUALS_TRIED):
        if at < 0:
            return False
        if block[at - 5:at] == b"error":
            return True
        at = block.find(b"=", at + 1, end)
    return at >= 0 and block.find(CLIENT_ERROR_MARK, at - 5, end) >= 0


def iso_second(text: bytes) -> int | None:
    """Epoch second of an ISO-8601 time text, as the reference parser reads it (`line_time`)."""
    when = line_time(text)
    return int(when.timestamp()) if when else None


def clf_second(text: bytes) -> int | None:
    """Epoch second of a common-log-format time text without its brackets, as the reference parser reads it."""
    when = line_time(b"[" + text + b"]")
    return int(when.timestamp()) if when else None


def parse_line(line: bytes) -> Request | None:
    """The request a single access or summary line records; None when the line is not one."""
    line = line[:MAX_LINE_BYTES]
    # each pattern is tried only where its fixed text is (`in` is a fast search; a regex tries many starts on a
    # long line: 16 KB lines of a logged payload went 5x faster)
    match = SUMMARY.search(line) if b"] azmlinfsrv - " in line else None
    if match:
        when = line_time(line)
        return Request(when.timestamp() if when else None, match["method"].decode(), _text(match["path"]),
                       int(match["status"]), float(match["ms"]))
    match = _ACCESS.search(line) if b'] "' in line else None
    if match is None:
        return _other_server(line)
    return _from_access(line, match)


def _other_server(line: bytes) -> Request | None:
    """The request of a uvicorn, TorchServe or BentoML access line (the line's own time: its prefix's)."""
    quoted = b'" ' in line  # _UVICORN's and _TORCHSERVE's `HTTP/D.D" STATUS`
    match = _UVICORN.search(line) if quoted and b' - "' in line else None
    latency = None
    if match is None:
        match = (_TORCHSERVE.search(line) if quoted and b" ACCESS_LOG - " in line else None) or \
            (_BENTOML.search(line) if b" (status=" in line else None)
        if match is None:
            return _envoy(line) if ENVOY_MARK in line else None
        latency = float(match["ms"])
    when = line_time(line)
    return Request(when.timestamp() if when else None, match["method"].decode(), _text(match["path"]),
                   int(match["status"]), latency)


def _envoy(line: bytes) -> Request | None:
    """The request of an Envoy JSON access line (its `start_time`, else the line's prefix's time)."""
    status, method, path = _ENVOY_STATUS.search(line), _ENVOY_METHOD.search(line), _ENVOY_PATH.search(line)
    if status is None or method is None or path is None:
        return None
    stamp, ms = _ENVOY_TIME.search(line), _ENVOY_MS.search(line)
    when = (line_time(stamp["time"]) if stamp else None) or line_time(line)
    return Request(when.timestamp() if when else None, method["method"].decode(), _text(path["path"]),
                   int(status["status"]), float(ms["ms"]) if ms else None)


def _from_access(line: bytes, match: re.Match[bytes]) -> Request:
    when = line_time(line) or line_time(line[match.start("time") - 1:])
    status = match["status"]
    code = 0 if status in (b"-", b"000") else int(status)
    return Request(when.timestamp() if when else None, match["method"].decode(), _text(match["path"]),
                   code, _latency(line, match), _client_error(match["ua"]))


def _text(raw: bytes) -> str:
    """Bytes from a log as text; a path that is not UTF-8 is kept, its bad bytes replaced."""
    return raw.decode("utf-8", "replace")


def _latency(line: bytes, match: re.Match[bytes]) -> float | None:
    if match["rt"]:
        return float(match["rt"]) * 1000
    upstream = _UPSTREAM.search(line, match.end())
    if upstream:
        return float(upstream["urt"]) * 1000
    kv = _KV_TIME.search(line, match.end())
    return float(kv["rt"]) * 1000 if kv else None


def _client_error(agent: bytes | None) -> str:
    found = _CLIENT_ERROR.search(agent or b"")
    return found["err"].decode() if found else ""


def is_health(request: Request) -> bool:
    """A liveness/readiness probe request, not scoring traffic."""
    return request.method in ("GET", "HEAD") and request.path.split("?")[0].encode() in HEALTH_PATHS


class LineParser:
    """Requests out of one source's lines; counts malformed access lines; merges summary + access pairs."""

    PENDING = 64  # summary lines waiting for their gunicorn.access twin

    def __init__(self, strict: bool) -> None:
        self.strict = strict  # an access log: every non-blank line should be a request
        self.malformed = 0
        self._pending: deque[tuple[bytes, str, int]] = deque(maxlen=self.PENDING)

    def pending_keys(self) -> deque[tuple[bytes, str, int]]:
        """The (pid, path, status) of summary lines whose twin has not come yet, oldest first."""
        return self._pending

    def remember(self, keys: list[tuple[bytes, str, int]]) -> None:
        """Summary lines seen without their twin (the fast pass read them), oldest first."""
        self._pending.extend(keys)

    def reorder(self, keys: list[tuple[bytes, str, int]]) -> None:
        """The pending summaries, same ones in a new order (after twins the fast pass matched)."""
        self._pending.clear()
        self._pending.extend(keys)

    def feed(self, line: bytes) -> Request | None:
        """The new request on this line, if any (None for the gunicorn twin of a summary line)."""
        line = line[:MAX_LINE_BYTES]
        if not line.strip():
            return None
        request = parse_line(line)
        if request is None:
            if self.strict or LOOKS_ACCESS.search(line):
                self.malformed += 1
            return None
        if SUMMARY.search(line):
            self._pending.append((SUMMARY.search(line)["pid"], request.path, request.status))  # type: ignore[index]
            return request
        return None if self._twin(line, request) else request

    def _twin(self, line: bytes, request: Request) -> bool:
        pid = TWIN_PID.search(line)
        key = (pid.group(1) if pid else b"", request.path, request.status)
        if pid and key in self._pending:
            self._pending.remove(key)
            return True
        return False


def pending_after(pending: list[tuple[bytes, str, int]],
                  twins: Iterable[tuple[tuple[bytes, str, int], bool]]) -> list[tuple[bytes, str, int]] | None:
    """The summaries waiting for their twin after a block counted at once (None: as before), from the block's
    gunicorn.access lines in order, each (key, whether it is the twin of the summary just before it): a pair
    whose key is pending moves that key to the end, as LineParser's append-then-remove-the-first does. Raises
    Ordered for a lone twin whose key is pending (it may be that summary's twin, or a request of its own: only
    the line-by-line parser can tell)."""
    keys, moved = set(pending), []
    for key, paired in twins:
        if key in keys:
            if not paired:
                raise Ordered
            moved.append(key)
    if not moved:
        return None
    order = list(pending)
    for key in moved:
        order.remove(key)
        order.append(key)
    return order


NO_SECOND = -(1 << 62)  # "no second" (the reference's None), as the block passes write it


class Minutes:
    """Epoch seconds of a minute's time text (its seconds `00`), each parsed once by the reference: the cache the
    block passes (doctor.traffic.native, doctor.traffic.vector) add a line's seconds to."""

    def __init__(self) -> None:
        self.minutes: dict[bytes, int] = {}

    def of(self, text: bytes, parse: Callable[[bytes], int | None]) -> int:
        """The epoch second `parse` reads in `text`, NO_SECOND where it reads none."""
        try:
            return self.minutes[text]
        except KeyError:
            if len(self.minutes) > 100_000:
                self.minutes.clear()  # bounded on logs spanning months
            found = parse(text)
            value = self.minutes[text] = NO_SECOND if found is None else found
            return value
