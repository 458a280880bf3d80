"""The one place a bundle's paths are checked: every file read from a bundle is inside it, reached without a link.

A customer tarball unpacked with `tar xzf` keeps its symbolic links (absolute ones too), so a directory
bundle can hold `docker -> /`, `k8s/logs/POD -> /home/me` or `events.json -> /etc/passwd`. Every path
is walked component by component from the bundle root with `lstat`: a link, a device or a FIFO at any
level is refused (InputError naming the path, exit 2), the resolved path must stay below the resolved
root, and files are opened with O_NOFOLLOW so a link swapped in after the check is refused too.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from doctor.errors import InputError

_REFUSED = "links and devices are refused in bundles"


def _kind(path: Path, rel: str) -> int | None:
    """The lstat mode of `path` (None when absent); InputError for a link or anything not a file or folder."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", rel) from None
    if stat.S_ISLNK(mode):
        raise InputError(f"a symbolic link ({_REFUSED})", rel)
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError(f"not a regular file ({_REFUSED})", rel)
    return mode


def bundle_path(root: Path, rel: str) -> Path | None:
    """`root/rel` when it exists as a file or folder reached without a link and inside the bundle; else None.

    InputError when any level of it is a link, a device or a FIFO, or it would leave the bundle (`..`, absolute,
    or resolving outside the resolved root)."""
    base = root if root.is_absolute() else root.resolve()
    current = base
    parts = [p for p in Path(rel).parts if p not in ("", ".")]
    if any(p == ".." for p in parts) or Path(rel).is_absolute():
        raise InputError("a path outside the bundle", rel)
    for depth, part in enumerate(parts, 1):
        current = current / part
        if _kind(current, "/".join(parts[:depth])) is None:
            return None
    if not current.resolve().is_relative_to(base.resolve()):  # cannot happen without a link; checked all the same
        raise InputError(f"resolves outside the bundle ({_REFUSED})", rel)
    return current


def bundle_file(root: Path, rel: str) -> Path | None:
    """Like `bundle_path`, for a path that must be a regular file when present."""
    path = bundle_path(root, rel)
    if path is not None and not stat.S_ISREG(os.lstat(path).st_mode):
        raise InputError("a folder where a file was expected", rel)
    return path


def bundle_dirs(root: Path, rel_dir: str) -> list[Path]:
    """The folders directly inside `root/rel_dir` (none when it is absent), sorted; links refused."""
    base = bundle_path(root, rel_dir)
    if base is None or not base.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        mode = _kind(Path(entry.path), f"{rel_dir}/{entry.name}")
        if mode is not None and stat.S_ISDIR(mode):
            found.append(Path(entry.path))
    return found


def bundle_files(root: Path, rel_dir: str) -> list[tuple[Path, str]]:
    """Every regular file below `root/rel_dir` (recursively, sorted) with its bundle-relative name.

    The single listing every reader of a bundle folder uses: InputError for a link, device or FIFO at any level."""
    base = bundle_path(root, rel_dir)
    if base is None or not base.is_dir():
        return []
    found: list[tuple[Path, str]] = []
    stack = [(base, rel_dir.strip("/"))]
    while stack:
        folder, rel = stack.pop()
        for entry in os.scandir(folder):
            name = f"{rel}/{entry.name}"
            mode = _kind(Path(entry.path), name)
            if mode is None:
                continue
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), name))
            else:
                found.append((Path(entry.path), name))
    return sorted(found, key=lambda pair: pair[1].split("/"))  # folder by folder, as a listing of each would be


def open_file(path: Path, rel: str) -> BinaryIO:
    """`path` opened for reading without following a link (O_NOFOLLOW); InputError when it is not a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InputError(f"cannot open ({err.strerror}; {_REFUSED})", rel) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"not a regular file ({_REFUSED})", rel)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_file(path: Path, rel: str, limit: int) -> bytes:
    """The bytes of a bundle file of at most `limit` bytes (opened as `open_file`); InputError when larger."""
    with open_file(path, rel) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise InputError(f"larger than {limit} bytes", rel)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"larger than {limit} bytes", rel)
    return data


def read_tail(path: Path, rel: str, limit: int) -> tuple[bytes, int]:
    """The last `limit` bytes of a bundle file from its first whole line on, and the file's size."""
    with open_file(path, rel) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= limit:
            return handle.read(limit), size
        handle.seek(size - limit)
        data = handle.read(limit)
    cut = data.find(b"\n")
    return (data[cut + 1:] if cut >= 0 else b""), size


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DECODE_BYTES = 1 << 20


class _Utf8FromUtf16(io.RawIOBase):
    """A UTF-16 file (what Windows PowerShell's `>` writes) read as UTF-8 bytes, in bounded pieces."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-16")("replace")  # the BOM says which byte order
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            raw = self._handle.read(_DECODE_BYTES)
            self._pending = self._decoder.decode(raw, final=not raw).encode("utf-8")
            if not raw:
                break
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._handle.close()
        super().close()


def is_utf16(path: Path, rel: str) -> bool:
    """Whether a bundle file starts with a UTF-16 byte-order mark."""
    with open_file(path, rel) as handle:
        return handle.read(2) in _UTF16_BOMS


def open_log(path: Path, rel: str, utf16: bool) -> BinaryIO:
    """A bundle log opened as `open_file` does; a UTF-16 one is read as UTF-8."""
    handle = open_file(path, rel)
    return io.BufferedReader(_Utf8FromUtf16(handle), _DECODE_BYTES) if utf16 else handle  # type: ignore[return-value]


def decoded(data: bytes) -> str:
    """A small file's text: UTF-16 when it starts with its byte-order mark, else UTF-8 (bad bytes replaced)."""
    if data[:2] in _UTF16_BOMS:
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")
