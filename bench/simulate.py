"""Benchmark: the autoscaler replay on logs spanning hours, against the plain replay it must equal.

Usage: python bench/simulate.py [--short] [--hours 1,6,24]
Per span, GENERATED per-second arrivals (a steady 3 requests a second of 0.31 s, and a two-minute spike of 30 a
second in the middle; one replica, 2 concurrent requests: the spike overloads it), timed in one run:
- `simulate_stats`, what `mldoctor simulate` and the check run: the replay under the current settings, then the
  trials for the smallest settings without 503 (recommended minimum replicas);
- one replay with `doctor.traffic.simulate.replay` and with the plain one of tests/traffic/simulate_reference.py
  (every 1/20 s step taken, one Python object per request), and whether the two are identical.
--short: a 10-minute span (CI). Exits 1 when the two replays differ.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "traffic")]

from doctor.traffic import simulate as sm  # noqa: E402

SERVICE_MS = 311.9
CONFIG = {"min_replicas": 1, "max_replicas": 1, "max_concurrent": 2, "max_wait_ms": 200}


def arrivals(seconds: int) -> dict[int, int]:
    """3 requests a second, 30 a second for two minutes from the middle on (epoch seconds, as logs give them)."""
    start, spike = 1_764_028_800, seconds // 2
    return {start + t: 30 if spike <= t < spike + 120 else 3 for t in range(seconds)}


def timed(fn, *args):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a 10-minute span (CI)")
    parser.add_argument("--hours", default="1,6,24", help="spans to replay, in hours")
    args = parser.parse_args()
    import simulate_reference as reference

    spans = [600] if args.short else [int(float(h) * 3600) for h in args.hours.split(",")]
    settings = sm.settings_from(CONFIG)
    print(f"{'span':>8} {'requests':>10} {'simulate_stats s':>17} {'503':>6} {'min replicas':>13} "
          f"{'replay s':>9} {'plain replay s':>15} {'identical':>10}")
    same_everywhere = True
    for seconds in spans:
        arr = arrivals(seconds)
        stats = {"series": {}, "service_ms": {"p95": SERVICE_MS}, "bursts_503": []}
        result, whole = timed(sm.simulate_stats, stats, CONFIG, True, sm.DEFAULT_STARTUP_S, arr)
        ours, fast = timed(sm.replay, arr, SERVICE_MS / 1000, settings)
        theirs, plain = timed(reference.replay, arr, SERVICE_MS / 1000, settings)
        same = (ours.rejected, ours.replicas, ours.peak_replicas, ours.hit_max) == (
            theirs.rejected, theirs.replicas, theirs.peak_replicas, theirs.hit_max)
        same_everywhere &= same
        print(f"{seconds / 3600:7.2f}h {sum(arr.values()):10d} {whole:17.2f} {result['predicted_503']:6d} "
              f"{str((result['recommended'] or {}).get('min_replicas')):>13} {fast:9.2f} {plain:15.2f} {str(same):>10}")
    return 0 if same_everywhere else 1


if __name__ == "__main__":
    sys.exit(main())
