"""Docker's multiplexed log stream, read back to the bytes the container wrote, however the engine's answer is
cut into reads: one line a frame (the usual case with timestamps), frames of several lines or of part of a line,
stderr mixed in, bytes in a payload that look like a header. No engine needed: the frames are built here."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from typing import Any

import pytest

from doctor.collect.docker_logs import demux


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def _reference(data: bytes) -> bytes:
    """The frames' payloads, read one header at a time (what `docker logs` prints)."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = struct.unpack_from(">I", data, pos + 4)[0]
        out.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size
    return b"".join(out)


def _cut(data: bytes, rnd: random.Random) -> list[bytes]:
    cuts = sorted(rnd.sample(range(1, len(data)), min(len(data) - 1, rnd.randint(1, 40))))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def _payloads(rnd: random.Random, kind: str) -> list[bytes]:
    lines = [f"2026-11-25T10:00:{i % 60:02d}.{i:09d}Z line {i} {'x' * rnd.randint(0, 300)}\n".encode()
             for i in range(rnd.randint(50, 400))]
    if kind == "lines":
        return lines
    if kind == "multi":  # several lines in one frame
        return [b"".join(lines[i:i + 3]) for i in range(0, len(lines), 3)]
    if kind == "partial":  # a long line split over frames (no newline at the end of the first parts)
        return [part for line in lines for part in (line[:10], line[10:])]
    # lines whose bytes look like the next header: "\n\x01\x00\x00\x00..." inside a payload
    return [line[:-1] + b"\n\x01\x00\x00\x00\x00\x00\x00\x05tail\n" if i % 7 == 0 else line
            for i, line in enumerate(lines)]


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("kind", ["lines", "multi", "partial", "fake-headers"])
def test_demux_gives_back_what_the_container_wrote(seed: int, kind: str) -> None:
    rnd = random.Random(seed)
    payloads = _payloads(rnd, kind)
    data = b"".join(_frame(rnd.choice([1, 1, 1, 2]), p) for p in payloads)
    got = b"".join(demux(_cut(data, rnd)))
    assert got == _reference(data) == b"".join(payloads)


def test_one_chunk_whole() -> None:
    payloads = [b"a\n", b"bb\n", b"\n", b"ccc\n"]
    data = b"".join(_frame(1, p) for p in payloads)
    assert list(demux([data])) == [b"a\nbb\n\nccc\n"]


def _engine(tmp_path: Any, body: bytes, piece: int, stall: float = 0.0) -> str:
    """A fake engine on a unix socket: answers one GET with a 200 and `body` in writes of `piece` bytes, then
    waits `stall` seconds before closing."""
    path = str(tmp_path / "engine.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
            for at in range(0, len(body), piece):
                conn.sendall(body[at:at + piece])
            time.sleep(stall)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return path


def test_the_socket_reader_gives_up_on_a_silent_engine(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What came before the engine fell silent is given; then a TimeoutError, after SOCKET_TIMEOUT, not never."""
    from doctor.collect import docker_logs

    monkeypatch.setattr(docker_logs, "SOCKET_TIMEOUT", 0.3)
    chunks: list[bytes] = []
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        for chunk in docker_logs.unix_get(_engine(tmp_path, b"some log\n" * 50, 100, stall=5.0), "/x"):
            chunks.append(chunk)
    assert b"".join(chunks) == b"some log\n" * 50
    assert time.monotonic() - started < 4.0
