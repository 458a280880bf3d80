"""The parent side of preflight: start the harness in its own process group and watch it.

The user's code is untrusted for time and memory: a wall-clock bound, a per-run() bound and a resident-memory
bound (polled from /proc, with RLIMIT_AS as a backstop) each end it by killing the whole process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("harness.py")
HARNESS_REAL = Path(__file__).with_name("harness_real.py")
SERVER_PACKAGE = "azureml-inference-server-http"
SHIM = Path(__file__).with_name("shim")
POLL_SECONDS = 0.02
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the child may use before preflight stops it."""

    wall_seconds: float
    memory_bytes: int
    run_seconds: float | None = None  # per run() call: past this it is treated as hung


@dataclass(frozen=True, slots=True)
class Phase:
    """One measured step: `import`, `init` or `run` (index = sample number)."""

    name: str
    index: int
    duration_ms: float
    peak_bytes: int
    ok: bool
    stopped: str | None = None  # "memory" | "wall" | "run-timeout" when preflight killed it here


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one preflight run saw: the worker's log, each phase, how the process ended."""

    pid: int
    exit_code: int | None
    stopped: str | None
    phases: tuple[Phase, ...]
    log: bytes
    wall_seconds: float
    server: str | None = None  # "azureml-inference-server-http X" when the real server ran score.py, else None (the shim)

    @property
    def peak_bytes(self) -> int:
        """The highest resident memory of any phase."""
        return max((p.peak_bytes for p in self.phases), default=0)

    def phase(self, name: str) -> Phase | None:
        """The first phase with this name."""
        return next((p for p in self.phases if p.name == name), None)


@dataclass
class _Watch:
    """Mutable state of the poll loop."""

    started: float
    current: dict[str, Any] | None = None
    current_peak: int = 0
    phases: list[Phase] = field(default_factory=list)
    offset: int = 0


def real_server(python: str) -> str | None:
    """`azureml-inference-server-http VERSION` when that interpreter has the real server installed, else None."""
    probe = "from importlib.metadata import version; print(version('%s'))" % SERVER_PACKAGE
    try:
        done = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    version = done.stdout.strip()
    return f"{SERVER_PACKAGE} {version}" if done.returncode == 0 and version else None


def run_harness(spec: dict[str, Any], workdir: Path, env: dict[str, str], bounds: Bounds,
                python: str | None = None) -> Measurement:
    """Run score.py on `spec` (script, samples) in `workdir` under the real server when `python` has it, else the
    shim harness; never longer or larger than `bounds`."""
    interpreter = python or sys.executable
    server = real_server(interpreter)
    spec_path, events_path, log_path = workdir / "spec.json", workdir / "events.jsonl", workdir / "worker.log"
    spec_path.write_text(json.dumps({**spec, "events": str(events_path), "shim": str(SHIM)}), "utf-8")
    events_path.touch()
    harness = HARNESS_REAL if server else HARNESS
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([interpreter, str(harness), str(spec_path)], cwd=spec["app_root"], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                preexec_fn=lambda: _limit_address_space(bounds.memory_bytes))
        watch = _Watch(time.monotonic())
        stopped = _watch(proc, events_path, watch, bounds)
    code = proc.returncode if stopped is None else None
    return Measurement(proc.pid, code, stopped, tuple(watch.phases), log_path.read_bytes(),
                       time.monotonic() - watch.started, server)


def _limit_address_space(memory_bytes: int) -> None:
    """Backstop for allocations faster than the poll: virtual memory capped well above the RSS bound."""
    import resource

    cap = memory_bytes * 2 + 1024 * MIB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _watch(proc: subprocess.Popen[bytes], events_path: Path, watch: _Watch, bounds: Bounds) -> str | None:
    """Poll until the child ends; the reason when preflight had to stop it."""
    while proc.poll() is None:
        _read_events(events_path, watch)
        watch.current_peak = max(watch.current_peak, _rss(proc.pid))
        reason = _over_bounds(watch, bounds)
        if reason:
            _kill_group(proc)
            _read_events(events_path, watch)
            _close_current(watch, reason)
            return reason
        time.sleep(POLL_SECONDS)
    _read_events(events_path, watch)
    _close_current(watch, None)
    return None


def _over_bounds(watch: _Watch, bounds: Bounds) -> str | None:
    now = time.monotonic()
    if watch.current_peak > bounds.memory_bytes:
        return "memory"
    if now - watch.started > bounds.wall_seconds:
        return "wall"
    current = watch.current
    if bounds.run_seconds and current and current["phase"] == "run" and now - current["mono"] > bounds.run_seconds:
        return "run-timeout"
    return None


def _read_events(path: Path, watch: _Watch) -> None:
    with open(path, "rb") as handle:
        handle.seek(watch.offset)
        data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]
    watch.offset += len(complete)
    for line in complete.splitlines():
        _apply(json.loads(line), watch)


def _apply(event: dict[str, Any], watch: _Watch) -> None:
    if event["event"] == "start":
        watch.current = {**event, "mono": time.monotonic() - (time.time() - event["t"])}
        watch.current_peak = 0
    elif event["event"] == "end":
        peak = max(int(event["peak_bytes"]), watch.current_peak)
        watch.phases.append(Phase(event["phase"], event["index"], event["duration_ms"], peak, bool(event["ok"])))
        watch.current, watch.current_peak = None, 0


def _close_current(watch: _Watch, reason: str | None) -> None:
    """The phase that was running when the child died or was stopped, measured from outside."""
    if watch.current is None:
        return
    elapsed = (time.monotonic() - watch.current["mono"]) * 1000
    watch.phases.append(Phase(watch.current["phase"], watch.current["index"], elapsed, watch.current_peak, False,
                              reason or "died"))
    watch.current = None


def _rss(pid: int) -> int:
    """Resident memory of `pid` in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group (what it may have spawned too) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
