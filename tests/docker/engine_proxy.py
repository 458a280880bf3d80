"""A unix-socket proxy in front of the real Docker engine, for fault tests: mldoctor talks to the engine through
it (DOCKER_HOST=unix://PROXY), and the test decides, request by request, to pass it on, to hold it (an engine
that pauses), or to cut the socket (an engine that dies: every connection closed, nothing listens any more).
The engine's answers are the engine's own; nothing in mldoctor or the SDK is patched."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable

ENGINE = (os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock").removeprefix("unix://")
REQUEST = re.compile(rb"^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP/1\.[01]\r?\n")

# What to do with a request: None (pass it on), a number of seconds to hold it, or "cut".
Decide = Callable[[str, str], "float | str | None"]


class EngineProxy:
    """Forwards connections on `path` to the engine; `decide(method, url)` is asked for every request."""

    def __init__(self, path: Path, decide: Decide, cut_after_bytes: dict[str, int] | None = None) -> None:
        self.path, self.decide = path, decide
        self.cut_after_bytes = cut_after_bytes or {}  # url substring -> answer bytes after which the socket dies
        self.requests: list[str] = []
        self.dead = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """The DOCKER_HOST value that points at the proxy."""
        return f"unix://{self.path}"

    def cut(self) -> None:
        """The engine's socket dies: every open connection is closed and nothing listens any more."""
        self.dead.set()
        with self._lock:
            for conn in [self._server, *self._conns]:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _accept(self) -> None:
        while not self.dead.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE)
            with self._lock:
                self._conns += [client, upstream]
            state = {"url": ""}
            threading.Thread(target=self._requests, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._answers, args=(upstream, client, state), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket, state: dict[str, str]) -> None:
        """Client to engine: each request line is shown to `decide` before it is passed on."""
        while data := _recv(client):
            found = REQUEST.match(data)
            if found:
                method, url = found.group(1).decode(), found.group(2).decode()
                self.requests.append(f"{method} {url}")
                state["url"] = url
                action = self.decide(method, url)
                if action == "cut":
                    self.cut()
                    return
                if isinstance(action, (int, float)):
                    time.sleep(action)
            if not _send(upstream, data):
                return
        _close(upstream, socket.SHUT_WR)

    def _answers(self, upstream: socket.socket, client: socket.socket, state: dict[str, str]) -> None:
        """Engine to client; the socket dies after a set number of bytes of a matching answer."""
        sent = 0
        while data := _recv(upstream):
            limit = next((n for key, n in self.cut_after_bytes.items() if key in state["url"]), None)
            if limit is not None and sent + len(data) >= limit:
                _send(client, data[: max(limit - sent, 0)])
                self.cut()
                return
            sent += len(data)
            if not _send(client, data):
                return
        _close(client, socket.SHUT_WR)


def _recv(conn: socket.socket) -> bytes:
    try:
        return conn.recv(1 << 16)
    except OSError:
        return b""


def _send(conn: socket.socket, data: bytes) -> bool:
    try:
        conn.sendall(data)
        return True
    except OSError:
        return False


def _close(conn: socket.socket, how: int) -> None:
    try:
        conn.shutdown(how)
    except OSError:
        pass
