"""Benchmark: `mldoctor check docker:NAME` against `docker logs NAME > /dev/null` on a container with ~1 GB of logs.

Creates (or reuses, with --keep) a container from the locally built busybox image that writes azmlinfsrv-style
log lines until it has written --size-mb, then times both commands in the same run and prints wall time and
peak RSS of each (the engine's own work, the same for both, is not in either RSS). Needs .ci/docker.sh first.

    python bench/docker_logs.py [--size-mb 1024] [--repeat 1] [--keep] [--name NAME] [--short] [--shape mixed]
(--short: 4 MB, what CI runs.) `--shape`: the container prints a log of one of bench/shapes.py's GENERATED shapes
(64 MB generated on the host, mounted read-only, printed again until --size-mb) instead of one repeated line.
Exits 1 when a command fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

IMAGE = "mldoctor-test-busybox:1"
NAME = "mldoctor-bench-logs"
LINE = ('2026-11-25 15:31:27,525 I [10362] gunicorn.access - 127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] '
        '"POST /score HTTP/1.1" 200 19 "-" "python-requests/2.31"')
# A few lines of trouble in front, so the check has something to find besides volume.
PROLOGUE = ("Booting worker with pid: 7", "WORKER TIMEOUT (pid:7)", "Booting worker with pid: 9")


def run_measured(argv: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB and exit status of `argv`, its stdout sent to /dev/null."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        print(f"  {' '.join(argv)} exited {proc.returncode}: {err[-400:]}", file=sys.stderr)
    return wall, usage.ru_maxrss, proc.returncode


def ensure_container(client: Any, size_mb: int, name: str = NAME, shape: str | None = None) -> None:
    """A stopped container whose log holds about `size_mb` MB of lines (made once; kept with --keep)."""
    import docker

    try:
        c = client.containers.get(name)
        if c.labels.get("size_mb") == str(size_mb) and c.labels.get("shape", "") == (shape or "") and c.status == "exited":
            return
        c.remove(force=True)
    except docker.errors.NotFound:
        pass
    prologue = "; ".join(f"echo '{p}'" for p in PROLOGUE)
    volumes = {}
    if shape:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from shapes import UNIQUE_BYTES, WORK, make_log

        log = WORK / f"docker-{shape}.log"
        if not log.exists():
            WORK.mkdir(parents=True, exist_ok=True)
            make_log(log, shape, min(UNIQUE_BYTES, size_mb * 1_000_000))
        volumes = {str(log): {"bind": "/shape.log", "mode": "ro"}}
        # `cat` ends (SIGPIPE) when `head` has its bytes, which ends the loop
        script = f"{prologue}; while cat /shape.log; do :; done | head -c {size_mb * 1_000_000}"
    else:
        script = f"{prologue}; yes '{LINE}' | head -c {size_mb * 1_000_000}"
    started = time.perf_counter()
    c = client.containers.run(IMAGE, ["sh", "-c", script], name=name, detach=True, network_mode="none",
                              labels={"size_mb": str(size_mb), "shape": shape or ""}, volumes=volumes)
    c.wait()
    print(f"wrote {size_mb} MB of logs in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def main() -> int:
    """Build the container, time both commands, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the container for the next run")
    parser.add_argument("--remove", action="store_true", help="only remove the kept container")
    parser.add_argument("--name", default=NAME, help=f"the container's name (default {NAME})")
    parser.add_argument("--short", action="store_true", help="4 MB (CI)")
    parser.add_argument("--shape", help="a bench/shapes.py shape (mixed, gunicorn, ...) instead of one repeated line")
    args = parser.parse_args()
    if args.short:
        args.size_mb = 4
    import docker

    client = docker.from_env()
    if args.remove:
        client.api.remove_container(args.name, force=True)
        return 0
    name = args.name
    ensure_container(client, args.size_mb, name, args.shape)
    log_path = client.api.inspect_container(name)["LogPath"]
    print(f"container {name}: json-file log {os.stat(log_path).st_size / 1e6:.0f} MB on disk")
    collect_only = f"from doctor.collect.docker import collect_docker; collect_docker({name!r}, None)"
    commands = {
        "docker logs > /dev/null": ["docker", "logs", name],
        "mldoctor check --format json": [sys.executable, "-m", "doctor", "check", f"docker:{name}", "--format", "json"],
        "(collector alone: collect_docker)": [sys.executable, "-c", collect_only],
    }
    results: dict[str, list[tuple[float, int, int]]] = {k: [] for k in commands}
    for _ in range(args.repeat):
        for label, argv in commands.items():
            results[label].append(run_measured(argv))
    print(f"{'command':32} {'wall s':>8} {'peak RSS MiB':>13} {'exit':>5}")
    for label, runs in results.items():
        wall = min(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 1024
        print(f"{label:32} {wall:8.1f} {rss:13.0f} {runs[-1][2]:5d}")
    base, ours, collector = (min(r[0] for r in runs) for runs in results.values())
    print(f"ratio mldoctor check / docker logs: {ours / base:.2f}x (target <= 1.3x)")
    print(f"ratio collector alone / docker logs: {collector / base:.2f}x (the rest of check is rules and reports)")
    if not args.keep:
        client.api.remove_container(name, force=True)
    return 0 if all(runs[-1][2] in (0, 1) for runs in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
