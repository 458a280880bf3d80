"""Reading a container's log: the unix-socket HTTP/1.0 reader, the SDK fallback, demux, the bounded TailSink."""

from __future__ import annotations

import os
import shutil
import socket
import struct
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from doctor.follow import Writer
from doctor.logs import MAX_LINE_BYTES

Progress = Callable[[int, int | None], None]  # (log bytes read so far, expected total or None)

STREAM_CHUNK = 1 << 20
# Readers of a followed log are told it grew once per this many bytes (and at the end), not per block read from the
# engine (a few KB): each notice wakes the reading thread of the check, which then waits for the GIL behind the
# analysis. Per block, a 1 GB log cost the check ~24 s of system time (bench/README.md); readers take 4 MB at a time.
NOTIFY_BYTES = 1 << 20
SOCKET_TIMEOUT = 300.0  # seconds without a byte from the engine before giving up


class TailSink:
    """Keeps the last `cap` bytes of a stream in bounded disk: two segment files written in turn.

    With `growing`, readers follow the first segment while it is written (the check analyses the log as it
    streams in); a stream longer than `cap` abandons them, since the log kept is then only its tail."""

    def __init__(self, path: Path, cap: int, progress: Progress | None = None, total: int | None = None,
                 growing: Writer | None = None) -> None:
        self.path, self.cap, self.progress, self.total = path, max(cap, 1), progress, total
        self.segments = (self.first_segment(path), path.with_name(path.name + ".1"))
        self.current, self.segment_bytes, self.streamed, self.rotated = 0, 0, 0, False
        # written through a buffer of NOTIFY_BYTES: a write call per megabyte, not per block
        self.file: BinaryIO = open(self.segments[0], "wb", buffering=NOTIFY_BYTES)
        self.growing, self.told = growing, 0  # bytes of the first segment readers were told of
        if growing is not None:
            growing.started(self.segments[0])

    @staticmethod
    def first_segment(path: Path) -> Path:
        """The file the stream's first `cap` bytes go to (what readers follow)."""
        return path.with_name(path.name + ".0")

    def write(self, block: bytes) -> None:
        """Append a block of whole lines; past `cap` bytes in a segment, start over in the other one."""
        self.file.write(block)
        self.segment_bytes += len(block)
        self.streamed += len(block)
        if self.progress is not None:
            self.progress(self.streamed, self.total)
        if self.segment_bytes >= self.cap:
            self.file.close()
            if self.growing is not None:
                self.growing.abandon()
                self.growing = None
            self.current ^= 1
            self.file = open(self.segments[self.current], "wb", buffering=NOTIFY_BYTES)
            self.segment_bytes, self.rotated = 0, True
        elif self.growing is not None and self.segment_bytes - self.told >= NOTIFY_BYTES:
            self.file.flush()  # readers never wait on bytes still in the buffer
            self.growing.grew(self.segment_bytes)
            self.told = self.segment_bytes

    def finish(self) -> bool:
        """Leave the kept bytes (whole lines) at `path`; True when older bytes were dropped."""
        self.file.close()
        newer, older = self.segments[self.current], self.segments[self.current ^ 1]
        if not self.rotated:
            if self.growing is not None:  # readers may still open the first segment: it stays, linked to `path`
                self.growing.grew(self.segment_bytes)  # the bytes since the last notice
                self.path.unlink(missing_ok=True)
                os.link(newer, self.path)
                self.growing.finish()
            else:
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
                inp.readline(MAX_LINE_BYTES)  # a "line" without newline is cut, not read whole
        shutil.copyfileobj(inp, out, STREAM_CHUNK)


def unix_get(sock_path: str, path: str) -> Iterator[bytes]:
    """GET `path` over the unix socket as HTTP/1.0, so the body comes unchunked; its raw body in big reads.

    Through requests/urllib3 the engine's chunked answer costs a Python round per log line (each frame is
    its own HTTP chunk): ten times slower than `docker logs` on a gigabyte. HTTP/1.0 has no chunking.
    The reads ask for a megabyte with MSG_WAITALL, but the socket has Python's timeout, so it is non-blocking
    underneath and each read returns what has come (a few kilobytes: ~138,000 reads for a 436 MB log). Reading
    whole megabytes from a blocking socket (the kernel keeping the timeout) was tried: the same CPU, and the
    collector 25 % slower in wall time (the engine waits while a megabyte is handled).
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(SOCKET_TIMEOUT)
        sock.connect(sock_path)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: mldoctor\r\n\r\n".encode())
        body = _expect_ok(sock)
        if body:
            yield body
        while data := sock.recv(STREAM_CHUNK, socket.MSG_WAITALL):
            yield data
    finally:
        sock.close()


def _expect_ok(sock: socket.socket) -> bytes:
    """Read the status line and headers; the body bytes read with them. An engine error (404, 500) raises."""
    head = b""
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        data = sock.recv(65536)
        if not data:
            break
        head += data
        if len(head) > 1 << 20:
            raise OSError("engine answered with over a megabyte of headers")
    cut = head.find(b"\r\n\r\n")
    headers, body = (head[:cut], head[cut + 4:]) if cut >= 0 else head.partition(b"\n\n")[::2]
    status = headers.split(b"\n", 1)[0].decode("latin-1").split(" ", 2)
    if len(status) < 2 or status[1] != "200":
        while len(body) < 4096:
            data = sock.recv(4096)
            if not data:
                break
            body += data
        text = body[:4096].decode("utf-8", "replace").strip()
        raise OSError(f"engine answered {' '.join(status[1:]).strip()}: {text[:300]}")
    return body


def sdk_get(client: Any, cid: str, params: dict[str, Any]) -> Iterator[bytes]:
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


def close_quietly(gen: Iterator[bytes]) -> None:
    """Close a generator (and so the HTTP response) left early."""
    close = getattr(gen, "close", None)
    if close is not None:
        close()
