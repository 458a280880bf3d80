"""The child side of preflight: load score.py and call init()/run() the way the Azure ML inference server does.

Run as a plain script (`python harness.py SPEC.json`) in its own process group; it imports nothing of mldoctor.
It logs in the azmlinfsrv >= 0.8 format with the server's own message texts, and writes one JSON line per
phase (start / end, duration, peak RSS) to the events file the parent polls. The sample is read from disk and
handed to run() in-process: nothing is sent anywhere.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import os
import sys
import time
import traceback
from types import ModuleType
from typing import Any, Callable, TextIO

FORMAT = "%(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s"
BOOT_ERROR = 3  # gunicorn WORKER_BOOT_ERROR: the server exits with it when init() or the import fails


class _Events:
    """The measurements channel to the parent: one JSON object a line, flushed at once."""

    def __init__(self, path: str) -> None:
        self.stream: TextIO = open(path, "a", buffering=1, encoding="utf-8")

    def emit(self, **fields: Any) -> None:
        """Write one event with the current time."""
        self.stream.write(json.dumps({"t": time.time(), **fields}) + "\n")


class _PrintToLog:
    """sys.stdout replacement: the server logs user print() output through `azmlinfsrv.print`."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("azmlinfsrv.print")
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.logger.info(line)
        return len(text)

    def flush(self) -> None:
        """Nothing buffered beyond the current line."""


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.__stderr__)
    formatter = logging.Formatter(FORMAT)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    sys.stdout = _PrintToLog()  # type: ignore[assignment]


def _reset_peak() -> None:
    """Reset the kernel's RSS high-water mark so each phase gets its own peak (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_bytes() -> int:
    """VmHWM of this process since the last reset, else ru_maxrss."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _timed(events: _Events, phase: str, index: int, call: Callable[[], Any]) -> Any:
    """Run one phase with its start/end events; re-raises what the call raises."""
    _reset_peak()
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


def _load_script(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("entry_module", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["entry_module"] = module
    spec.loader.exec_module(module)
    return module


def _describe_run(run: Callable[..., Any], log: logging.Logger) -> None:
    if getattr(run, "__aml_rawhttp__", False):
        log.info("run() is decorated with @rawhttp. Server will invoke it with the flask request object.")
    elif getattr(run, "__aml_input_names__", None):
        log.info("run() is decorated with @input_schema. Server will invoke it with the following arguments: %s.",
                 ", ".join(run.__aml_input_names__))
    else:
        log.info("run() is not decorated. Server will invoke it with the input in JSON string.")


def _call_run(run: Callable[..., Any], body: bytes) -> Any:
    """Call run() as the server would for a POST /score with this body."""
    if getattr(run, "__aml_rawhttp__", False):
        from azureml.contrib.services.aml_request import AMLRequest

        return run(AMLRequest(body))
    names = getattr(run, "__aml_input_names__", None)
    if names:
        data = json.loads(body)
        return run(**{name: data.get(name) for name in names})
    return run(body.decode("utf-8"))


def _model_dir_contents(log: logging.Logger) -> None:
    model_dir = os.environ.get("AZUREML_MODEL_DIR", "")
    if not model_dir or not os.path.isdir(model_dir):
        return
    lines = []
    for root, dirs, files in os.walk(model_dir, followlinks=True):
        depth = root[len(model_dir):].count(os.sep)
        lines.append("    " * depth + (os.path.basename(root) or root) + "/")
        lines.extend("    " * (depth + 1) + name for name in sorted(files))
        if len(lines) > 200:
            break
    log.error("Model Directory Contents:\n%s", "\n".join(lines[:200]))


def _init(module: ModuleType, script: str, events: _Events) -> bool:
    log = logging.getLogger("azmlinfsrv.user_script")
    init, run = getattr(module, "init", None), getattr(module, "run", None)
    for name, func in (("init", init), ("run", run)):
        if not callable(func):
            logging.getLogger("azmlinfsrv").error(
                "User script at %s does not have a %s() function defined.", script, name)
            return False
    _describe_run(run, log)  # type: ignore[arg-type]
    log.info("Invoking user's init function")
    try:
        _timed(events, "init", 0, init)  # type: ignore[arg-type]
    except BaseException:
        server = logging.getLogger("azmlinfsrv")
        server.error("User's init function failed")
        server.error("Encountered Exception Traceback (most recent call last):\n%s",
                     "".join(traceback.format_exc().splitlines(True)[1:]))
        _model_dir_contents(server)
        return False
    log.info("Users's init has completed successfully")
    return True


def wrap_response(result: Any) -> str:
    """The answer's body, as the inference server writes it (routes.py `wrap_response`: `json.dumps` of what run()
    returned, which raises TypeError on a NumPy array and the like); a response object run() built is sent as is."""
    if hasattr(result, "status_code") and hasattr(result, "message"):
        return str(result.message)
    return json.dumps(result)


def _score(run: Callable[..., Any], index: int, body: bytes, events: _Events) -> None:
    server = logging.getLogger("azmlinfsrv")
    start = time.perf_counter()
    try:
        result = _timed(events, "run", index, lambda: _call_run(run, body))
        size = len(wrap_response(result))
        server.info("POST /score 200 %.3fms %d", (time.perf_counter() - start) * 1000, size)
    except BaseException:
        server.error("Encountered Exception: %s", traceback.format_exc())
        server.info("POST /score 500 %.3fms 92", (time.perf_counter() - start) * 1000)


def main(spec_path: str) -> int:
    """Boot like a gunicorn worker, import the script, init(), then run() each sample; the exit code."""
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    _setup_logging()
    events = _Events(spec["events"])
    pid = os.getpid()
    logging.getLogger("gunicorn.error").info("Booting worker with pid: %d", pid)
    events.emit(event="boot", pid=pid)
    script = spec["script"]
    sys.path.insert(0, os.path.dirname(script))
    sys.path.append(spec["shim"])  # after site-packages: a real Azure ML SDK, when installed, wins
    logging.getLogger("azmlinfsrv.user_script").info("Found user script at %s", script)
    try:
        module = _timed(events, "import", 0, lambda: _load_script(script))
    except BaseException:
        logging.getLogger("azmlinfsrv").error("%s", traceback.format_exc().rstrip() + "\n\nThe above exception was the "
                                              "direct cause of the following exception:\n\nUserScriptImportException: "
                                              "Failed to import user script because it raised an unhandled exception")
        return BOOT_ERROR
    if not _init(module, script, events):
        logging.getLogger("gunicorn.error").info("Worker exiting (pid: %d)", pid)
        return BOOT_ERROR
    logging.getLogger("azmlinfsrv").info("Worker with pid %d ready for serving traffic", pid)
    for index, sample in enumerate(spec["samples"]):
        with open(sample, "rb") as handle:
            _score(module.run, index, handle.read(), events)
    events.emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
