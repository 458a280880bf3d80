"""Helpers both Docker test families share (tests/docker: the Debian stand-in, tests/servers: the real servers):
removing a test container, reading its whole log, polling until a condition holds. Test set-up only: the
collector under test never removes anything."""

from __future__ import annotations

import time
from typing import Any, Callable


def remove(client: Any, name: str) -> None:
    """Remove a test container if it exists (test set-up and teardown only; never the collector)."""
    import docker

    try:
        client.api.remove_container(name, force=True)
    except docker.errors.NotFound:
        pass


def logs(client: Any, name: str) -> str:
    """The container's whole log so far (tests only: the logs are small)."""
    return client.api.logs(name, stdout=True, stderr=True).decode("utf-8", "replace")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
