"""Pasted-text benchmark: how fast a paste is cut into its parts, and that memory does not grow with its size.

Usage: python bench/pasted.py [--size-mb 200] [--short]   (--short: 4 MB, what the tests run)
The paste (generated under /tmp: a `kubectl describe pod` block, a `$ kubectl logs POD --previous` header, then a
serving log of the given size, then hostile lines of spaces and colons) is split by `doctor.collect.paste_split`;
prints MB/s, CPU time and peak RSS (which should stay near the interpreter's, whatever the size), and the load
average (other work on the machine skews wall times: compare CPU times).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DESCRIBE = ROOT / "fixtures" / "corpus" / "k-crashloop-oomkilled-100mi" / "pasted" / "kubectl-describe-pod.txt"
LINE = b"2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score 200 0.918ms 19\n"


def make(path: Path, size_mb: int) -> None:
    """Write the generated paste (once per size)."""
    if path.exists() and path.stat().st_size >= size_mb * 2**20:
        return
    with open(path, "wb") as out:
        out.write(DESCRIBE.read_bytes() + b"\n$ kubectl logs analytics-exporter-fast-76897854c-cw5wh --previous\n")
        block = LINE * 10000
        for _ in range(size_mb * 2**20 // len(block)):
            out.write(block)
        out.write(b"Name:" + b" " * 100000 + b"x:\n" + (b"a  " * 100000 + b"\n") * 10)


def main() -> None:
    """Split the paste and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--short", action="store_true", help="4 MB (the test suite runs it so)")
    args = parser.parse_args()
    if args.short:
        args.size_mb = 4
    from doctor.collect.paste_split import split

    path = Path(f"/tmp/mldoctor-bench-paste-{args.size_mb}.txt")
    make(path, args.size_mb)
    size = path.stat().st_size
    wall, cpu = time.monotonic(), time.process_time()
    with open(path, "rb") as handle:
        parts = split(handle)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{size / 2**20:.0f} MB in {wall:.1f} s ({size / 2**20 / wall:.1f} MB/s), CPU {cpu:.1f} s, peak RSS {rss:.0f} MB, "
          f"parts {[p.kind for p in parts]}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
