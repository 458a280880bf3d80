"""Scan benchmark: mldoctor (hyperscan and re engines) against ripgrep on one generated serving log.

Usage: python bench/scan.py [--size-mb 1024] [--engines hyperscan,re] [--repeat 2] [--no-check] [--short]
(--short: 4 MB, once each: what CI runs so a broken benchmark fails the build.)
(--repeat applies to rg and the scan; the whole check, a minute at 1 GB, runs once.)
The log (azmlinfsrv/gunicorn lines, mostly access + summary lines) is generated once under /tmp.
Prints, per engine: scan-only MB/s, whole `mldoctor check` MB/s, CPU time and peak RSS; rg -c -f time; the ratio;
the load average with every figure (other work on the machine skews wall times: compare CPU times too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path("/tmp/mldoctor-bench")

ACCESS = '{ip} - - [25/Nov/2026:{h:02d}:{m:02d}:{s:02d} +0000] "POST /score HTTP/1.1" {code} {size} "-" "python-requests/2.31.0"'
SUMMARY = "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} I [{pid}] azmlinfsrv - POST /score {code} {lat:.3f}ms {size}"
RARE = [
    "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} I [{pid}] gunicorn.error - Booting worker with pid: {pid}",
    "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} C [1] gunicorn.error - WORKER TIMEOUT (pid:{pid})",
    "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} E [{pid}] azmlinfsrv - User's init function failed",
    "Traceback (most recent call last):",
    '  File "/var/azureml-app/score.py", line 12, in init',
    "ValueError: could not convert string to float: 'abc'",
    "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} E [{pid}] azmlinfsrv - Encountered Exception: KeyError: 'data'",
    "2026-11-25 {h:02d}:{m:02d}:{s:02d},{ms:03d} I [1] gunicorn.error - Worker (pid:{pid}) exited with code 3",
]


def make_log(path: Path, size: int) -> None:
    """About `size` bytes of serving log: access and summary lines, 1 in 500 an error/boot line."""
    rnd = random.Random(7)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as out:
        written, i = 0, 0
        while written < size:
            lines = []
            for _ in range(10000):
                i += 1
                t = i // 40
                v = {"h": (t // 3600) % 24, "m": (t // 60) % 60, "s": t % 60, "ms": i % 1000, "pid": 30 + i % 7,
                     "ip": f"10.0.{i % 250}.{i % 200}", "code": 200 if rnd.random() > 0.01 else 503,
                     "size": rnd.randint(10, 900), "lat": rnd.random() * 90}
                kind = ACCESS if i % 2 else SUMMARY
                lines.append((rnd.choice(RARE) if rnd.random() < 0.002 else kind).format(**v))
            text = "\n".join(lines) + "\n"
            out.write(text)
            written += len(text)
    tmp.rename(path)


def bundle(size_mb: int) -> tuple[Path, Path]:
    """The bundle (healthy fixture's inspect/events, generated log), created once."""
    sys.path.insert(0, str(ROOT / "bench"))
    from shapes import bundle_at

    return bundle_at(WORK / f"bundle-{size_mb}mb", lambda log: make_log(log, size_mb * 1024 * 1024))


def patterns_file() -> tuple[Path, list[str]]:
    """The built-in rules' log patterns, one a line, for rg -f."""
    sys.path.insert(0, str(ROOT))
    from doctor.rules.loader import load_rules
    from doctor.rules.logscan import ScanPlan
    from doctor.rules.model import LogCond, walk

    rules = load_rules([], builtin=True)
    pats = ScanPlan([c for r in rules for c in walk(r.when) if isinstance(c, LogCond)]).patterns
    path = WORK / "patterns.txt"
    plain = [re.sub(r"\(\?P<\w+>", "(", p) for p in pats]  # rg joins the patterns: names would clash
    path.write_text("\n".join(plain) + "\n", encoding="utf-8")
    return path, pats


def child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KB) of one child, from /usr/bin/time."""
    start = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed: {run.stderr.strip()[-500:]}")
    user, system, rss = run.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss)


SCAN_ONLY = """
import sys, time
from doctor.scan import make_scanner
pats = open(sys.argv[1], encoding='utf-8').read().splitlines()
scanner = make_scanner(pats, sys.argv[3])
t = time.perf_counter(); n = 0
with open(sys.argv[2], 'rb') as f:
    for hit in scanner.scan(f):
        n += 1
print(n, time.perf_counter() - t)
"""


def measure(label: str, cmd: list[str], mb: float, repeat: int, env: dict[str, str] | None = None) -> float:
    """Best wall time of `repeat` runs, printed with MB/s, that run's CPU time, and the highest peak RSS."""
    runs = [child(cmd, env) for _ in range(repeat)]
    wall, cpu, _ = min(runs)
    rss = max(r[2] for r in runs)
    print(f"{label:<40} {wall:7.2f} s {mb / wall:8.0f} MB/s  cpu {cpu:5.2f} s  peak RSS {rss / 1024:7.1f} MB"
          f"  load {os.getloadavg()[0]:.2f}")
    return wall


def main() -> None:
    """Generate once, then print every figure in one run."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--engines", default="hyperscan,re")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-check", action="store_true", help="time the scan only, not the whole check")
    ap.add_argument("--short", action="store_true", help="4 MB, each figure once (CI)")
    args = ap.parse_args()
    if args.short:
        args.size_mb, args.repeat = 4, 1
    WORK.mkdir(exist_ok=True)
    root, log = bundle(args.size_mb)
    pats_path, pats = patterns_file()
    mb = log.stat().st_size / 1e6
    print(f"log {log} {mb:.0f} MB, {len(pats)} patterns; load: {os.getloadavg()}; cores: {os.cpu_count()}")
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL)  # hot page cache for everyone
    rg = measure("rg -c -f PATTERNS FILE", ["rg", "-c", "-f", str(pats_path), str(log)], mb, args.repeat)
    for engine in args.engines.split(","):
        env = {"MLDOCTOR_SCAN_ENGINE": engine, "PYTHONPATH": str(ROOT)}
        scan_cmd = [sys.executable, "-c", SCAN_ONLY, str(pats_path), str(log), engine]
        if engine == "hyperscan":  # the first run compiles the database (0.2 s), later runs load it from the cache
            measure("mldoctor scan only (hyperscan, no cache)", scan_cmd, mb, 1, {**env, "MLDOCTOR_CACHE_DIR": ""})
        scan = measure(f"mldoctor scan only ({engine})", scan_cmd, mb, args.repeat, env)
        print(f"  ratio vs rg: scan {rg / scan:.2f}")
        if not args.no_check:
            check = measure(f"mldoctor check ({engine})",
                            [sys.executable, "-m", "doctor", "check", str(root), "--format", "json"], mb, 1, env)
            print(f"  ratio vs rg: whole check {rg / check:.2f}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
