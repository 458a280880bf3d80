"""Headless Chromium for the tests that check what a person would see of an HTML report."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def chromium(page: Path) -> tuple[str, str]:
    """(DOM, stderr log) of the page as headless Chromium renders it; CI fails without Chromium, a desk skips."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        message = "chromium is not installed (apt-get install -y chromium); the HTML report was not rendered"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--window-size=1200,2000", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def chromium_dom(page: Path) -> str:
    """The DOM of the page as headless Chromium renders it."""
    return chromium(page)[0]
