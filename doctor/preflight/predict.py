"""Turn what preflight measured into Evidence, so the same rules as `check` give the (predicted) findings.

The worker's own log is real output of the script under the harness. What the service around it would add is
written in separate, clearly named sources: the gunicorn master's lines after the worker dies, the front end's
access line for a run() past the timeout, the import error the image would raise for a package the environment
lacks.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from doctor.evidence import ContainerState, Event, Evidence, LogSource, Target
from doctor.preflight.plan import APP_ROOT, RunPlan
from doctor.preflight.runner import Measurement, Phase

MB = 1024 * 1024
BOOT_LOOP_BOOTS = 3  # gunicorn re-boots a worker killed while starting; three boots show the loop


def build(plan: RunPlan, measured: Measurement, app_root: str, missing: list[tuple[str, str]],
          listing: list[str] | None = None) -> Evidence:
    """The Evidence of one preflight run, marked predicted."""
    name = plan.script.name
    evidence = Evidence(Target("preflight", str(plan.script)), predicted=True, now=datetime.now(timezone.utc))
    worker = measured.log.replace(app_root.encode(), APP_ROOT.encode())
    evidence.logs.append(LogSource.from_bytes(f"preflight/{name}.log", name, worker + _master_lines(plan, measured)))
    evidence.states.append(_state(plan, measured, name))
    evidence.events.extend(_oom_events(plan, measured, name))
    access = _access_lines(plan, measured)
    if access:
        evidence.logs.append(LogSource.from_bytes("preflight/frontend-access.log (predicted)", name, access,
                                                  kind="access"))
    if listing:
        evidence.logs.append(LogSource.from_bytes("preflight/model-dir.txt", name,
                                                  "".join(f"{p}\n" for p in listing).encode(), kind="model-dir"))
    if missing:
        evidence.logs.append(LogSource.from_bytes("preflight/environment-check.log (predicted)", name,
                                                  _import_lines(missing)))
    evidence.notes.extend(notes(plan, measured, missing))
    return evidence


def over_limit(plan: RunPlan, phase: Phase) -> bool:
    """True when this phase's peak memory is past the service's memory limit."""
    return bool(plan.memory_limit_bytes) and phase.peak_bytes > (plan.memory_limit_bytes or 0)


def _stamp(offset: float = 0.0) -> str:
    now = time.time() + offset
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now % 1 * 1000):03d}"


def _line(level: str, pid: int, logger: str, message: str, offset: float = 0.0) -> bytes:
    return f"{_stamp(offset)} {level} [{pid}] {logger} - {message}\n".encode()


def _master_lines(plan: RunPlan, measured: Measurement) -> bytes:
    """What gunicorn's master would log after this worker ended, as gunicorn >= 21 words it."""
    master, pid = measured.pid - 1, measured.pid
    start = measured.phase("init") or measured.phase("import")
    if start and over_limit(plan, start):
        out = b""
        for boot in range(BOOT_LOOP_BOOTS - 1):
            out += _line("E", master, "gunicorn.error", f"Worker (pid:{pid + boot}) was sent SIGKILL! Perhaps out of memory?", boot)
            out += _line("I", pid + boot + 1, "gunicorn.error", f"Booting worker with pid: {pid + boot + 1}", boot)
        return out
    init = measured.phase("init")
    if init and init.stopped == "wall":
        return _line("E", pid, "azmlinfsrv", f"init() did not finish within {init.duration_ms / 1000:.1f} s "
                     f"(stopped by preflight's wall-clock bound)")
    if measured.exit_code == 3:
        return (_line("E", master, "gunicorn.error", f"Worker (pid:{pid}) exited with code 3")
                + _line("E", master, "gunicorn.error", "Shutting down: Master")
                + _line("E", master, "gunicorn.error", "Reason: Worker failed to boot."))
    return b""


def _state(plan: RunPlan, measured: Measurement, name: str) -> ContainerState:
    exited = measured.exit_code not in (None, 0)
    return ContainerState("preflight", name, status="exited" if exited else "running",
                          exit_code=measured.exit_code if exited else None,
                          memory_limit_bytes=plan.memory_limit_bytes)


def _oom_events(plan: RunPlan, measured: Measurement, name: str) -> list[Event]:
    """The engine's `oom` event the cgroup would raise for each phase past the memory limit."""
    return [Event("preflight", "container", name, "oom",
                  f"{_label(p)} peaked at {p.peak_bytes / MB:.1f} MB resident, over the "
                  f"{(plan.memory_limit_bytes or 0) / MB:.1f} MB memory limit", type="Warning")
            for p in measured.phases if over_limit(plan, p)]


def _access_lines(plan: RunPlan, measured: Measurement) -> bytes:
    """The front end's access line (nginx combined + request time) for each run() past the timeout."""
    out = b""
    for phase in measured.phases:
        if phase.name != "run" or not _past_timeout(plan, phase):
            continue
        when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        out += (f'127.0.0.1 - - [{when}] "POST /score HTTP/1.1" {plan.timeout_status} 0 "-" "mldoctor-preflight" '
                f"{phase.duration_ms / 1000:.3f}\n").encode()
    return out


def _past_timeout(plan: RunPlan, phase: Phase) -> bool:
    return phase.stopped in ("run-timeout", "wall") or (plan.timeout_ms is not None and phase.duration_ms > plan.timeout_ms)


def _import_lines(missing: list[tuple[str, str]]) -> bytes:
    """The error the image would log importing score.py, one per module the environment lacks."""
    return b"".join(_line("E", 1, "azmlinfsrv", f"ModuleNotFoundError: No module named '{module}'")
                    for module, _pip in missing)


def _label(phase: Phase) -> str:
    return f"run() #{phase.index + 1}" if phase.name == "run" else f"{phase.name}()" if phase.name == "init" else "import of score.py"


def notes(plan: RunPlan, measured: Measurement, missing: list[tuple[str, str]]) -> list[str]:
    """One line per measured phase and per bound preflight enforced, for the report's notes."""
    limit = f" (limit {plan.memory_limit_bytes / MB:.1f} MB)" if plan.memory_limit_bytes else ""
    out = [f"preflight: {_label(p)}: {p.duration_ms:.1f} ms, peak {p.peak_bytes / MB:.1f} MB{limit}"
           + (f", timeout {plan.timeout_ms:.0f} ms" if p.name == "run" and plan.timeout_ms else "")
           + ("" if p.ok else f", {'stopped by preflight: ' + p.stopped if p.stopped else 'raised'}")
           for p in measured.phases]
    out += [f"preflight: the environment file does not provide `{m}`: add `{pip}`" for m, pip in missing]
    out.append(f"preflight: worker exit code {measured.exit_code}, wall time {measured.wall_seconds:.2f} s"
               + (f", stopped: {measured.stopped}" if measured.stopped else ""))
    return out
