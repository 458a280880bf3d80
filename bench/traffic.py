"""Traffic-pass benchmark: the line-by-line reference against the block-at-a-time pass, on one generated log.

Usage: python bench/traffic.py [--size-mb 200] [--repeat 1] [--no-check] [--short]
(--short: 4 MB, what CI runs.) Exits 1 when the two passes' stats differ.
Uses bench/scan.py's generated bundle (azmlinfsrv summary + access lines). Prints, with the load average:
MB/s of the old and new traffic pass (and whether their stats dicts are equal), then whole `mldoctor check`
wall time and peak RSS with each pass (MLDOCTOR_TRAFFIC_REFERENCE=1 selects the old one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def traffic_pass(log: Path, fast: bool, repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of `repeat` uncached traffic passes over one container log, and the stats."""
    from doctor.evidence import Evidence, LogSource, Target
    from doctor.traffic import compute

    best, cpu, stats = float("inf"), float("inf"), None
    for _ in range(repeat):
        evidence = Evidence(Target("bundle", "bench"))
        evidence.logs.append(LogSource.from_path("logs.txt", "bench", log))
        start, start_cpu = time.perf_counter(), time.process_time()
        stats = compute(evidence, fast=fast)
        best, cpu = min(best, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return best, cpu, stats


def check(bundle: Path, reference: bool) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `mldoctor check` child process."""
    env = {**os.environ, "MLDOCTOR_TRAFFIC_REFERENCE": "1" if reference else ""}
    cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "doctor", "check", str(bundle), "--format", "json"]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    if run.returncode not in (0, 1, 2):
        raise SystemExit(f"mldoctor check failed: {run.stderr.strip()[-500:]}")
    return wall, int(run.stderr.strip().splitlines()[-1]) / 1024


def load() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    """Run the benchmark and print its figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--size-mb", type=int, default=200)
    args.add_argument("--repeat", type=int, default=1)
    args.add_argument("--no-check", action="store_true", help="traffic passes only")
    args.add_argument("--short", action="store_true", help="4 MB (CI)")
    opts = args.parse_args()
    if opts.short:
        opts.size_mb, opts.repeat = 4, 1
    from scan import bundle as make_bundle

    root, log = make_bundle(opts.size_mb)
    mb = log.stat().st_size / 1e6
    print(f"log {log} {mb:.0f} MB, {os.cpu_count()} cores, load {load()}")
    new_s, new_cpu, new = traffic_pass(log, True, opts.repeat)
    print(f"traffic pass, new (blocks)        {new_s:7.2f} s {mb / new_s:8.1f} MB/s   CPU {new_cpu:6.2f} s"
          f" {mb / new_cpu:6.1f} MB/s   load {load()}")
    old_s, old_cpu, old = traffic_pass(log, False, opts.repeat)
    print(f"traffic pass, old (line by line)  {old_s:7.2f} s {mb / old_s:8.1f} MB/s   CPU {old_cpu:6.2f} s"
          f" {mb / old_cpu:6.1f} MB/s   load {load()}")
    print(f"speed-up {old_s / new_s:.1f}x wall, {old_cpu / new_cpu:.1f}x CPU; identical stats: {new == old}")
    if not opts.no_check:
        for label, reference in (("new", False), ("old", True)):
            wall, rss = check(root, reference)
            print(f"mldoctor check, {label} traffic pass   {wall:7.2f} s {mb / wall:8.1f} MB/s   peak RSS {rss:6.1f} MB"
                  f"   load {load()}")
    return 0 if new == old else 1


if __name__ == "__main__":
    raise SystemExit(main())
