"""A progress line on stderr while a large log streams in; only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import Callable


def stderr_progress(label: str) -> Callable[[int, int | None], None] | None:
    """A `progress(bytes_done, total_or_None)` callback drawing one updating line, or None off a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def draw(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and (total is None or done < total):
            return
        last[0] = now
        shown = f"{done / 2**20:,.0f} MiB" + (f" of ~{total / 2**20:,.0f} MiB" if total else "")
        sys.stderr.write(f"\r{label}: {shown}   ")
        sys.stderr.flush()

    return draw


def clear_line() -> None:
    """Erase the progress line (before the report is printed)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
