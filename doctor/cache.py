"""What mldoctor keeps between runs, under `~/.cache/mldoctor` (`$XDG_CACHE_HOME/mldoctor`, or
`MLDOCTOR_CACHE_DIR`; set empty, nothing is kept): compiled hyperscan databases (those used last), which rule
files passed their load-time checks, and those files' data as JSON. A cache only saves time: an entry that is missing,
unreadable or from another version is made again, and a failure to write one is ignored. Like the user's own
rule files, the directory is the user's: what is in it is trusted as much as they are (JSON and hyperscan's
serialised databases only; nothing in it is run).
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

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


def prune(where: Path, pattern: str, keep: int) -> None:
    """Of the files in `where` matching `pattern`, remove all but the `keep` used last (their modification times:
    a reader that finds one touches it, `used`). Failures are ignored (another run may prune at once)."""
    try:
        found = [(entry.stat().st_mtime, entry) for entry in where.glob(pattern)]
    except OSError:
        return
    if len(found) <= keep:
        return
    found.sort(key=lambda item: item[0], reverse=True)
    for _, entry in found[keep:]:
        try:
            entry.unlink()
        except OSError:
            pass


def used(path: Path) -> None:
    """Mark a cached file as just used (`prune` keeps the files used last)."""
    try:
        os.utime(path)
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
        self._digests: dict[str, str] = {}  # a load asks for each file's digest more than once

    def digest(self, text: str) -> str:
        found = self._digests.get(text)
        if found is None:
            found = self._digests[text] = hashlib.sha256(
                self.fingerprint + b"\0" + text.encode("utf-8", "surrogatepass")).hexdigest()
        return found

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


class Parsed:
    """The data of rule files whose text passed the checks (`Verified`), as JSON, with the line of each part a rule
    asked for while it was built: the next load builds them from here without reading the YAML. Keyed by the
    text's `Verified` digest (its bytes and the loading code's fingerprint); kept: the entries the last load used."""

    def __init__(self, name: str, verified: Verified) -> None:
        where = cache_dir()
        self.path = where / f"{name}.json" if where else None
        self.verified = verified
        self._entries: dict[str, Any] | None = None
        self._used: set[str] = set()
        self._changed = False

    def _all(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                try:
                    data = json.loads(self.path.read_bytes())
                    self._entries = data if isinstance(data, dict) else {}
                except (OSError, ValueError):
                    pass
        return self._entries

    def get(self, text: str) -> Any:
        """What `keep` kept for this text, or None."""
        digest = self.verified.digest(text)
        self._used.add(digest)
        entry = self._all().get(digest)
        return entry if isinstance(entry, dict) else None

    def keep(self, text: str, data: Any, lines: list[dict[str, int]]) -> None:
        """Keep a checked text's data and lines, when JSON gives them back unchanged (not a date, not a number as a
        mapping key)."""
        entry = {"data": data, "lines": lines}
        try:
            if json.loads(json.dumps(entry)) != entry:
                return
        except (TypeError, ValueError):
            return
        digest = self.verified.digest(text)
        self._used.add(digest)
        self._all()[digest] = entry
        self._changed = True

    def save(self) -> None:
        """Write the entries this load used, when one is new."""
        if self._changed and self.path is not None:
            store(self.path, json.dumps({d: e for d, e in self._all().items() if d in self._used}).encode())
            self._changed = False
