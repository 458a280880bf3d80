"""Reading a container's log: the unix-socket HTTP/1.0 reader, the SDK fallback, demux, the bounded TailSink."""

from __future__ import annotations

import io
import shutil
import socket
import struct
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

Progress = Callable[[int, int | None], None]  # (log bytes read so far, expected total or None)

STREAM_CHUNK = 1 << 20
SOCKET_TIMEOUT = 300.0  # seconds without a byte from the engine before giving up


class TailSink:
    """Keeps the last `cap` bytes of a stream in bounded disk: two segment files written in turn."""

    def __init__(self, path: Path, cap: int, progress: Progress | None = None, total: int | None = None) -> None:
        self.path, self.cap, self.progress, self.total = path, max(cap, 1), progress, total
        self.segments = (path.with_name(path.name + ".0"), path.with_name(path.name + ".1"))
        self.current, self.segment_bytes, self.streamed, self.rotated = 0, 0, 0, False
        self.file: BinaryIO = open(self.segments[0], "wb")

    def write(self, block: bytes) -> None:
        """Append a block of whole lines; past `cap` bytes in a segment, start over in the other one."""
        self.file.write(block)
        self.segment_bytes += len(block)
        self.streamed += len(block)
        if self.progress is not None:
            self.progress(self.streamed, self.total)
        if self.segment_bytes >= self.cap:
            self.file.close()
            self.current ^= 1
            self.file, self.segment_bytes, self.rotated = open(self.segments[self.current], "wb"), 0, True

    def finish(self) -> bool:
        """Leave the kept bytes (whole lines) at `path`; True when older bytes were dropped."""
        self.file.close()
        newer, older = self.segments[self.current], self.segments[self.current ^ 1]
        if not self.rotated:
            newer.replace(self.path)
            older.unlink(missing_ok=True)
            return False
        with open(self.path, "wb") as out:
            room = self.cap - self.segment_bytes
            if room > 0:
                _copy_from(older, older.stat().st_size - room, out)
            _copy_from(newer, max(self.segment_bytes - self.cap, 0), out)
        newer.unlink()
        older.unlink()
        return True


def _copy_from(src: Path, offset: int, out: BinaryIO) -> None:
    """Copy `src` from `offset` on (from the next whole line when `offset` cuts one) into `out`."""
    with open(src, "rb") as inp:
        if offset > 0:
            inp.seek(offset - 1)
            if inp.read(1) != b"\n":
                inp.readline()
        shutil.copyfileobj(inp, out, STREAM_CHUNK)


def _unix_get(sock_path: str, path: str) -> Iterator[bytes]:
    """GET `path` over the unix socket as HTTP/1.0, so the body comes unchunked; its raw body in big reads.

    Through requests/urllib3 the engine's chunked answer costs a Python round per log line (each frame is
    its own HTTP chunk): ten times slower than `docker logs` on a gigabyte. HTTP/1.0 has no chunking.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(SOCKET_TIMEOUT)
        sock.connect(sock_path)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: mldoctor\r\n\r\n".encode())
        stream = io.BufferedReader(socket.SocketIO(sock, "rb"), STREAM_CHUNK)
        _expect_ok(stream)
        while True:
            data = stream.read1(STREAM_CHUNK)
            if not data:
                return
            yield data
    finally:
        sock.close()


def _expect_ok(stream: io.BufferedReader[socket.SocketIO]) -> None:
    """Read the status line and headers; an engine error (404, 500) raises with its message."""
    status = stream.readline(65536).decode("latin-1").split(" ", 2)
    while stream.readline(65536) not in (b"\r\n", b"\n", b""):
        pass
    if len(status) < 2 or status[1] != "200":
        body = stream.read(4096).decode("utf-8", "replace").strip()
        raise OSError(f"engine answered {' '.join(status[1:]).strip()}: {body[:300]}")


def _sdk_get(client: Any, cid: str, params: dict[str, Any]) -> Iterator[bytes]:
    """The same GET through the SDK's session (TCP, TLS, ssh hosts): slower, but any transport."""
    api = client.api
    response = api._get(api._url("/containers/{0}/logs", cid), params=params, stream=True)
    api._raise_for_status(response)
    try:
        yield from response.iter_content(chunk_size=STREAM_CHUNK)
    finally:
        response.close()


def demux(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Payloads of Docker's multiplexed stream (8-byte header: stream, 0, 0, 0, big-endian size)."""
    buf = b""
    unpack = struct.Struct(">I").unpack_from
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        pos, end, parts = 0, len(buf), []
        while end - pos >= 8:
            stop = pos + 8 + unpack(buf, pos + 4)[0]
            if stop > end:
                break
            parts.append(buf[pos + 8:stop])
            pos = stop
        buf = buf[pos:]
        if parts:
            yield b"".join(parts)


def _close_quietly(gen: Iterator[bytes]) -> None:
    """Close a generator (and so the HTTP response) left early."""
    close = getattr(gen, "close", None)
    if close is not None:
        close()
