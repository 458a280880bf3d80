"""What mldoctor keeps between runs, under `~/.cache/mldoctor` (`$XDG_CACHE_HOME/mldoctor`, or
`MLDOCTOR_CACHE_DIR`; set empty, nothing is kept): compiled hyperscan databases, and which rule files passed
their load-time checks. A cache only saves time: an entry that is missing, unreadable or from another version
is made again, and a failure to write one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Iterable

MAX_VERIFIED = 1024  # digests kept of checked rule files (the built-in pack is ~50)


def cache_dir() -> Path | None:
    """Where entries are kept between runs; None when MLDOCTOR_CACHE_DIR is set empty."""
    configured = os.environ.get("MLDOCTOR_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mldoctor"


def store(path: Path, data: bytes) -> None:
    """Written to a temporary name and renamed: a reader never sees half a file; failures only cost speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


class Verified:
    """Digests of texts that passed a check made by code with a given fingerprint: a text seen before by the
    same code need not be checked again. Only digests are kept, never the texts or anything run."""

    def __init__(self, name: str, fingerprint: bytes) -> None:
        where = cache_dir()
        self.path = where / f"{name}.json" if where else None
        self.fingerprint = fingerprint
        self._known: list[str] | None = None

    def digest(self, text: str) -> str:
        return hashlib.sha256(self.fingerprint + b"\0" + text.encode("utf-8", "surrogatepass")).hexdigest()

    def known(self) -> list[str]:
        if self._known is None:
            self._known = []
            if self.path is not None:
                try:
                    data = json.loads(self.path.read_bytes())
                    self._known = [d for d in data if isinstance(d, str)] if isinstance(data, list) else []
                except (OSError, ValueError):
                    pass
        return self._known

    def __contains__(self, text: str) -> bool:
        return self.digest(text) in self.known()

    def add(self, texts: Iterable[str]) -> None:
        """Remember these texts as checked (the newest MAX_VERIFIED are kept)."""
        new = [d for d in (self.digest(t) for t in texts) if d not in self.known()]
        if new and self.path is not None:
            self._known = (self.known() + new)[-MAX_VERIFIED:]
            store(self.path, json.dumps(self._known).encode())


def source_fingerprint(package: str, names: Iterable[str]) -> bytes:
    """A digest of the named files of a package (the code a cached result depends on)."""
    digest = hashlib.sha256()
    files = resources.files(package)
    for name in names:
        digest.update(name.encode() + b"\0" + files.joinpath(name).read_bytes() + b"\0")
    return digest.digest()
