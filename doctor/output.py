"""Writing a report: to stdout, or to a file atomically (never a half-written file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from doctor.errors import InputError


def write_output(text: str, output: str | None) -> None:
    """Print `text`, or write it to `output` through a temporary file renamed into place."""
    if not output or output == "-":
        click.echo(text, nl=False)
        return
    path = Path(output)
    if not path.parent.exists():
        raise InputError("the folder to write the report in does not exist", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
