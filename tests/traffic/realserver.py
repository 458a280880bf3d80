"""A real overloadable HTTP scoring server on 127.0.0.1: a capped number of requests in flight; a request that
cannot start within `max_wait_s` gets 503 (as Azure ML's queue does); each request is logged in gunicorn's access
format plus the request time, like `--access-logformat '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'`."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScoringServer:
    """Start with `with ScoringServer(slots=2, service_s=0.3) as srv:`; `srv.url`, `srv.log_bytes()`."""

    def __init__(self, slots: int = 1, service_s: float = 0.2, max_wait_s: float = 0.5,
                 reject_status: int = 503, front_timeout_s: float | None = None) -> None:
        self.slots, self.service_s, self.max_wait_s = slots, service_s, max_wait_s
        self.reject_status, self.front_timeout_s = reject_status, front_timeout_s
        self.gate = threading.BoundedSemaphore(slots)
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/score"

    def __enter__(self) -> "ScoringServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def log_bytes(self) -> bytes:
        with self.lock:
            return ("\n".join(self.lines) + "\n").encode()

    def _log(self, started: float, method: str, path: str, status: int, size: int) -> None:
        when = datetime.fromtimestamp(started, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
        line = (f'127.0.0.1 - - [{when}] "{method} {path} HTTP/1.1" {status} {size} "-" "python-requests/2.32.3" '
                f"{time.time() - started:.6f}")
        with self.lock:
            self.lines.append(line)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the access log is ours
                return

            def do_GET(self) -> None:  # liveness probe
                started = time.time()
                self._answer(200, b"Healthy")
                owner._log(started, "GET", self.path, 200, 7)

            def do_POST(self) -> None:
                started = time.time()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/score":
                    self._answer(404, b"Not Found")
                    owner._log(started, "POST", self.path, 404, 9)
                    return
                if not owner.gate.acquire(timeout=owner.max_wait_s):
                    body = b'{"message": "Too many requests"}'
                    self._answer(owner.reject_status, body)
                    owner._log(started, "POST", self.path, owner.reject_status, len(body))
                    return
                limit = owner.front_timeout_s
                try:
                    time.sleep(owner.service_s if limit is None else min(owner.service_s, limit))
                finally:
                    owner.gate.release()
                status = 504 if limit is not None and owner.service_s > limit else 200
                self._answer(status, b"[0.5]" if status == 200 else b"upstream request timeout")
                owner._log(started, "POST", self.path, status, 5)

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (a probe timeout): nothing to answer
                    pass

        return Handler
