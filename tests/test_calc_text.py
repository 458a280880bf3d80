"""Text helpers of the rule pack's templates (doctor.calc), on the texts real logs hold."""

from __future__ import annotations

import pytest

from doctor.calc import denied_dir


@pytest.mark.parametrize("said, error, folder", [
    # Python's PermissionError names the file in quotes (remsky/Kokoro-FastAPI, the unexplained-failure example)
    ("PermissionError: [Errno 13] Permission denied: 'api/src/models/v1_0/kokoro-v1_0.pth'", None, "api/src/models/v1_0"),
    ("PermissionError: [Errno 13] Permission denied: '/model.pkl'", None, "/"),
    # a shell refusing to run a script: the path is the last word before `: Permission denied`
    ("", "/bin/sh: 1: /app/start.sh: Permission denied", "/app"),
    ("", "exec /entrypoint.sh: Permission denied", "/"),
    # a quoted name without a folder falls back to the error line
    ("Permission denied: 'out.log'", "touch: /data/out.log: Permission denied", "/data"),
    ("Permission denied: 'out.log'", None, None),
    ("", "mkdir: cannot create directory 'x': Permission denied", None),
    (None, None, None),
])
def test_denied_dir_names_the_folder_of_the_refused_file(said: str | None, error: str | None, folder: str | None) -> None:
    assert denied_dir(said, error) == folder
