"""The child side of preflight on the REAL Azure ML inference server (azureml-inference-server-http).

Run as a plain script (`python harness_real.py SPEC.json`) by an interpreter that has the server installed (the
service's own environment); it imports nothing of mldoctor. The server's own app is created in-process, which
loads score.py and calls init() exactly as a gunicorn worker of `azmlinfsrv` does, with the server's logging;
each sample is then POSTed to /score through Flask's test client, so run() gets the server's own input handling,
error handling and log lines. Nothing listens on a port and nothing is sent anywhere. Writes the same events as
harness.py (import and init are one phase here: the server does both when the app is created).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, Callable, TextIO

BOOT_ERROR = 3  # what the server's worker exits with when the import or init() fails


class _Events:
    """The measurements channel to the parent: one JSON object a line, flushed at once."""

    def __init__(self, path: str) -> None:
        self.stream: TextIO = open(path, "a", buffering=1, encoding="utf-8")

    def emit(self, **fields: Any) -> None:
        """Write one event with the current time."""
        self.stream.write(json.dumps({"t": time.time(), **fields}) + "\n")


def _peak_bytes() -> int:
    """VmHWM of this process since the last reset."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _timed(events: _Events, phase: str, index: int, call: Callable[[], Any]) -> Any:
    """Run one phase with its start/end events; re-raises what the call raises (SystemExit included)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
    events.emit(event="start", phase=phase, index=index)
    start = time.perf_counter()
    ok = False
    try:
        result = call()
        ok = True
        return result
    finally:
        events.emit(event="end", phase=phase, index=index, ok=ok,
                    duration_ms=(time.perf_counter() - start) * 1000, peak_bytes=_peak_bytes())


def _server_logging() -> None:
    """The server's own logging configuration (its logging.json: formats, loggers, handlers)."""
    import azureml_inference_server_http as server
    from azureml_inference_server_http import log_config

    if not log_config.load_logging_config(os.path.dirname(server.__file__), silent=True):
        logging.basicConfig(level=logging.INFO)


def main(spec_path: str) -> int:
    """Create the server's app (import + init()), then POST each sample to /score; the exit code."""
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    events = _Events(spec["events"])
    pid = os.getpid()
    _server_logging()
    logging.getLogger("gunicorn.error").info("Booting worker with pid: %d", pid)
    events.emit(event="boot", pid=pid)
    sys.path.insert(0, os.path.dirname(spec["script"]))
    from azureml_inference_server_http.server.create_app import create

    try:
        app = _timed(events, "init", 0, create)
    except SystemExit as stop:
        logging.getLogger("gunicorn.error").info("Worker exiting (pid: %d)", pid)
        return int(stop.code) if isinstance(stop.code, int) else BOOT_ERROR
    client = app.test_client()
    for index, sample in enumerate(spec["samples"]):
        with open(sample, "rb") as handle:
            body = handle.read()
        _timed(events, "run", index, lambda: client.post("/score", data=body, content_type="application/json"))
    events.emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
