"""An unexpected exception (a bug in mldoctor): its traceback saved to a file, secrets redacted, so the user
gets one line naming the file instead of a wall of text, and can attach the file to a bug report."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

CRASH_DIR_ENV = "MLDOCTOR_CRASH_DIR"


def save_traceback(err: BaseException, argv: list[str]) -> Path | None:
    """Write the redacted traceback (and the command line) to a new file; its path, or None if it cannot be written."""
    from doctor import __version__
    from doctor.redact import redact_text

    folder = Path(os.environ.get(CRASH_DIR_ENV) or tempfile.gettempdir())
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    header = f"mldoctor {__version__} internal error at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n" \
             f"command: mldoctor {' '.join(argv)}\n\n"
    try:
        fd, name = tempfile.mkstemp(prefix="mldoctor-traceback-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(redact_text(header + text))
    except OSError:
        return None
    return Path(name)
