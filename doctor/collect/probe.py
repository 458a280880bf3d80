"""Real scoring requests to a URL (bounded in count and time), recorded as an access log.

The key comes from an environment variable and is only ever put in the Authorization header: it is
not recorded, logged or returned.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from doctor.errors import InputError
from doctor.evidence import Evidence, LogSource, Target

KEY_ENV = "MLDOCTOR_SCORING_KEY"
MAX_REQUESTS = 5000
MAX_CONCURRENCY = 64
DEFAULT_BODY = b'{"data": [[1, 2, 3, 4]]}'


@dataclass(frozen=True, slots=True)
class Result:
    """One request's outcome: status 0 with `error` when no HTTP answer came."""

    started: float
    status: int
    latency_ms: float
    size: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class ProbePlan:
    """What to send: how many, how many at once, at what pace, and the limits."""

    url: str
    body: bytes = DEFAULT_BODY
    requests: int = 20
    concurrency: int = 4
    timeout_s: float = 30.0
    max_seconds: float = 120.0
    rate: float | None = None  # requests per second; None: as fast as the concurrency allows


def check_plan(plan: ProbePlan) -> None:
    """InputError for a URL or bound that is not acceptable."""
    parts = urlsplit(plan.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("the probe URL must be http:// or https:// with a host", plan.url)
    if not 1 <= plan.requests <= MAX_REQUESTS or not 1 <= plan.concurrency <= MAX_CONCURRENCY:
        raise InputError(f"--requests must be 1..{MAX_REQUESTS} and --concurrency 1..{MAX_CONCURRENCY}", "probe")


def send(url: str, body: bytes, timeout_s: float) -> Result:
    """POST one scoring request; a timeout, empty reply or reset becomes an error result, never an exception."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.time()
    conn = cls(parts.hostname or "", parts.port, timeout=timeout_s)
    try:
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, _headers())
        response = conn.getresponse()
        data = response.read()
        return Result(started, response.status, (time.time() - started) * 1000, len(data))
    except (OSError, http.client.HTTPException) as err:
        return Result(started, 0, (time.time() - started) * 1000, 0, _error_kind(err))
    finally:
        conn.close()


def _headers() -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "mldoctor-probe"}
    key = os.environ.get(KEY_ENV)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _error_kind(err: BaseException) -> str:
    """What a client saw: timeout, empty_reply (worker killed), reset, refused, or error."""
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(err, http.client.RemoteDisconnected):
        return "empty_reply"
    if isinstance(err, ConnectionResetError):
        return "reset"
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    return "error"


def run(plan: ProbePlan) -> list[Result]:
    """Send the plan's requests; stops starting new ones once `max_seconds` have passed."""
    check_plan(plan)
    start = time.time()
    deadline = start + plan.max_seconds
    results: list[Result] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        if plan.rate:
            time.sleep(max(0.0, start + index / plan.rate - time.time()))
        if time.time() >= deadline:
            return
        result = send(plan.url, plan.body, min(plan.timeout_s, max(0.1, deadline - time.time())))
        with lock:
            results.append(result)

    _in_daemon_threads(one, plan.requests, plan.concurrency)
    return sorted(results, key=lambda r: r.started)


def _in_daemon_threads(task: Callable[[int], None], count: int, workers: int) -> None:
    """`task(0..count-1)` on `workers` daemon threads. Ctrl-C (or SIGTERM) ends the wait at once: requests stuck
    on a hanging service do not hold the exit for their timeout, as a pool's shutdown would."""
    from doctor.follow import background

    indices, lock, stop = iter(range(count)), threading.Lock(), threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                task(index)
            except Exception:  # the others stop too; the caller gets it from the Future
                stop.set()
                raise

    done = [background(work, f"mldoctor-probe-{i}") for i in range(max(1, min(workers, count)))]
    try:
        for future in done:
            future.result()
    finally:
        stop.set()


def access_log(results: list[Result], url: str) -> bytes:
    """The results in gunicorn's access format plus the request time (`%(L)s`); errors as status 000 `error=KIND`."""
    path = urlsplit(url).path or "/"
    lines = []
    for r in results:
        when = datetime.fromtimestamp(r.started, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
        agent = f"mldoctor-probe error={r.error}" if r.error else "mldoctor-probe"
        status = f"{r.status:03d}"
        lines.append(f'127.0.0.1 - - [{when}] "POST {path} HTTP/1.1" {status} {r.size} "-" "{agent}" {r.latency_ms / 1000:.6f}')
    return ("\n".join(lines) + "\n").encode() if lines else b""


def shown_url(url: str) -> str:
    """The URL as reports show it: scheme, host, port and path; never a user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def unanswered(results: list[Result], url: str) -> str | None:
    """One line when no request even connected (nothing listening, no route, no such host): the service is down.

    Timeouts, resets and empty replies mean something answered the connection: the rules diagnose those."""
    if not results or any(r.status or r.error not in ("refused", "error") for r in results):
        return None
    kinds = sorted({r.error or "error" for r in results})
    return (f"no HTTP answer from {shown_url(url)} to any of {len(results)} request(s) ({', '.join(kinds)}): "
            "is the service running and listening on that port?")


def evidence_for(results: list[Result], url: str) -> Evidence:
    """Evidence of kind `probe`: one access-kind log of the recorded requests."""
    parts = urlsplit(url)
    name = f"probe/{parts.hostname}{parts.path or '/'}"
    data = access_log(results, url)
    evidence = Evidence(Target("probe", shown_url(url)), now=datetime.now(timezone.utc))
    evidence.logs.append(LogSource.from_bytes(name, "probe", data, kind="access"))
    evidence.notes.append(f"probe: {len(results)} request(s) sent to {shown_url(url).partition('://')[2]}")
    return evidence
