"""Ctrl-C and SIGTERM (a cancelled CI job, a stopped CronJob pod) end a run at once with exit 130 and the one-line
`interrupted` message, even while requests hang on a service that never answers."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest


@pytest.fixture
def silent_service() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung scoring server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/score"
    server.close()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a shell's background job would inherit "ignore"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_while_requests_hang(silent_service: str, sig: signal.Signals) -> None:
    run = subprocess.Popen([sys.executable, "-m", "doctor", "probe", silent_service, "--requests", "8"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    time.sleep(2.5)  # the first requests are waiting on the silent service (their timeout is 30 s)
    assert run.poll() is None
    sent = time.monotonic()
    run.send_signal(sig)
    out, err = run.communicate(timeout=20)
    assert run.returncode == 130, err
    assert time.monotonic() - sent < 5
    assert "interrupted" in err and out == ""
