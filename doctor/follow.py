"""A log file another thread is still writing, read as it grows: the check analyses while the log streams in.

The writer (the collector's `TailSink`) says `started(path)`, `grew(size)` after each flushed block, then
`finish()`, or `abandon()` when the followed bytes stop being the log the check will keep (the size cap was
reached: the final log is a tail). Readers (`open()`) block until the bytes they ask for are written, so
they see full reads like a plain file; at `finish()` they read to the end, at `abandon()` they see an
early end (what they read is then stale, and the check reads the final log again).
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import os
import signal
import struct
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO, Callable, Protocol, TypeVar

T = TypeVar("T")


def background(fn: Callable[[], T], name: str) -> "Future[T]":
    """`fn()` in a daemon thread (an interrupted check does not wait for it); its result or exception in a Future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class Writer(Protocol):
    """What the writer of a followed file tells its readers (a `Growing`, or its pipe in a child process)."""

    def started(self, path: Path) -> None: ...
    def grew(self, size: int) -> None: ...
    def finish(self) -> None: ...
    def abandon(self) -> None: ...


class Growing:
    """The shared state of one followed file: where it is, how much is written, whether it has ended."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._path: Path | None = None
        self._size = 0
        self._ended = False  # finished or abandoned: no more bytes will come
        self.abandoned = False

    def started(self, path: Path) -> None:
        """The writer created `path` (empty)."""
        with self._cond:
            self._path = path
            self._cond.notify_all()

    def grew(self, size: int) -> None:
        """`size` bytes of the file are written and flushed."""
        with self._cond:
            self._size = size
            self._cond.notify_all()

    def finish(self) -> None:
        """The writer is done (also when it failed: readers then end where the written bytes end)."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def abandon(self) -> None:
        """The followed bytes are not the final log: readers end now."""
        with self._cond:
            self.abandoned = self._ended = True
            self._cond.notify_all()

    def open(self) -> BinaryIO:
        """A reader from the first byte; waits for the writer to start."""
        with self._cond:
            self._cond.wait_for(lambda: self._path is not None or self._ended)
            path = None if self.abandoned else self._path
        if path is None:
            return io.BytesIO(b"")  # the writer ended before writing anything (the log could not be read)
        return io.BufferedReader(_Follower(self, open(path, "rb")), 1 << 20)  # type: ignore[return-value]

    def _wait(self, want: int) -> int:
        """Bytes available up to `want` (from 0): at least `want` unless the file has ended; 0 once abandoned."""
        with self._cond:
            self._cond.wait_for(lambda: self._size >= want or self._ended)
            return 0 if self.abandoned else min(self._size, want)


class _Follower(io.RawIOBase):
    """A raw reader over the growing file: each read waits for its bytes (or the end)."""

    def __init__(self, growing: Growing, file: BinaryIO) -> None:
        self._growing, self._file, self._pos = growing, file, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        available = self._growing._wait(self._pos + len(buffer)) - self._pos
        if available <= 0:
            return 0
        got = self._file.readinto(memoryview(buffer)[:available])  # type: ignore[attr-defined]
        self._pos += got or 0
        return got or 0

    def close(self) -> None:
        self._file.close()
        super().close()


# --- the writer in a child process ---------------------------------------------------------------
#
# Reading a gigabyte from the engine is a Python round per megabyte plus demultiplexing; in a thread it
# would wait for the GIL behind the analysis, and the engine would wait for it. In a forked child it runs
# beside the analysis. The child tells the parent how far the file has grown through a pipe of 9-byte
# records (kind, size); its result comes back pickled when it is done.

_RECORD = struct.Struct(">cQ")


class _PipeWriter:
    """The child's side: each call is one record on the pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def _send(self, kind: bytes, size: int = 0) -> None:
        os.write(self.fd, _RECORD.pack(kind, size))

    def started(self, path: Path) -> None:
        self._send(b"S")

    def grew(self, size: int) -> None:
        self._send(b"G", size)

    def finish(self) -> None:
        self._send(b"F")

    def abandon(self) -> None:
        self._send(b"A")


def follow_in_child(work: Callable[[Writer], T], growing: Growing, path: Path, name: str) -> "Future[T]":
    """`work(writer)` writing `path` in a forked child (in a thread where fork is not available); `growing`
    follows it. The Future holds what `work` returned, or raises what it raised."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return background(lambda: work(growing), name)

    def record(kind: bytes, size: int) -> None:
        if kind == b"S":
            growing.started(path)
        elif kind == b"G":
            growing.grew(size)
        elif kind == b"A":
            growing.abandon()

    return _in_child(work, name, "the log reader", record, growing.finish)


def in_child(fn: Callable[[], T], name: str, nice: int = 0) -> "Future[T]":
    """`fn()` in a forked child, so that it uses the other core while this process works on; in a thread where
    fork is not available. The Future holds what `fn` returned (pickled back), or raises what it raised. `nice`:
    added to the child's niceness (`os.nice`), for work whose result is wanted only after this process's own:
    it then takes the cores this process and its more urgent children leave idle, rather than sharing them."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return background(fn, name)
    return _in_child(lambda writer: fn(), name, name, lambda kind, size: None, lambda: None, nice)


def _in_child(work: Callable[[Writer], T], name: str, what: str, record: Callable[[bytes, int], None],
              done: Callable[[], None], nice: int = 0) -> "Future[T]":
    """The child runs `work` (at `nice` more niceness); a thread of this process hands each record it writes to
    `record`, then its result to the Future; `done()` runs when the child has finished, whichever way."""
    context = multiprocessing.get_context("fork")
    notify_r, notify_w = os.pipe()
    result_r, result_w = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, notify_w, result_w, nice), name=name, daemon=True)
    child.start()
    os.close(notify_w)
    result_w.close()

    def pump() -> T:
        try:
            with open(notify_r, "rb", buffering=0) as pipe:
                while item := pipe.read(_RECORD.size):
                    record(*_RECORD.unpack(item.ljust(_RECORD.size, b"\0")))
            try:
                ok, value = result_r.recv()
            except EOFError:
                raise ChildDied(f"{what} stopped without a result (exit status {child.exitcode})") from None
        finally:
            done()  # also when the child died: readers end where its bytes end
            result_r.close()
            child.join()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return background(pump, name)


class ChildDied(RuntimeError):
    """A forked child ended without sending its result (killed, out of memory)."""


def die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent dies, even by SIGKILL (no orphan reading on)."""
    parent = os.getppid()
    try:
        try:  # the C extension's prctl: importing ctypes cost every child ~5 ms
            from doctor._native import die_with_parent as pdeathsig
        except ImportError:
            import ctypes

            pdeathsig = functools.partial(ctypes.CDLL(None, use_errno=True).prctl, 1)  # PR_SET_PDEATHSIG
        pdeathsig(signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the first write to the closed pipe stops it instead
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _child(work: Callable[[Writer], Any], notify_w: int, result_w: Any, nice: int = 0) -> None:
    """The forked child: run `work`, send its result (or its exception) back. Ctrl-C is the parent's to handle;
    SIGTERM (how the parent stops it when it ends early) ends it at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here (a sandbox): the child works at its parent's priority
            pass
    writer = _PipeWriter(notify_w)
    try:
        message: tuple[bool, Any] = (True, work(writer))
    except BaseException as exc:
        message = (False, exc)
    try:
        writer.finish()
    except OSError:  # the parent is gone
        pass
    os.close(notify_w)  # first: the parent reads the records to their end, then the result (however large)
    try:
        result_w.send(message)
    except Exception as exc:  # an exception that cannot be pickled: its text
        result_w.send((False, RuntimeError(f"{type(message[1]).__name__}: {message[1]}"[:2000] if not message[0]
                                           else f"unsendable result: {exc}")))
