"""Benchmark: `mldoctor check k8s:NS/*` vs `kubectl get pods,events -n NS -o json` on the same mock API server.

Serves a namespace of 2,000 pods (100 deployments x 20) and 20,000 events from the loopback mock
(tests/k8smock), then runs both commands in fresh processes and prints wall time and request counts.
Run from the repository root: `python bench/k8s_namespace.py [--deployments 100] [--pods 20] [--events 20000] [--short]`
(--short: 4 deployments of 2 pods, 100 events: what CI runs). Exits 1 when a command fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.k8smock.plugin import write_kubeconfig
from tests.k8smock.server import MockApiServer
from tests.k8smock.synth import scale_store


def timed(server: MockApiServer, cmd: list[str]) -> tuple[float, int, int, int]:
    """Wall seconds, exit code, API requests and log requests of one command against the server."""
    server.reset_log()
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, timeout=600, check=False, cwd=ROOT)
    wall = time.perf_counter() - start
    logs = server.count(r"/log$")
    return wall, done.returncode, server.count() - logs, logs


def main() -> int:
    """Build the namespace, run both, print the table."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--deployments", type=int, default=100)
    args.add_argument("--pods", type=int, default=20, help="pods per deployment")
    args.add_argument("--events", type=int, default=20000)
    args.add_argument("--crashing-every", type=int, default=25, help="every Nth deployment crash-loops")
    args.add_argument("--short", action="store_true", help="a small namespace (CI)")
    opts = args.parse_args()
    if opts.short:
        opts.deployments, opts.pods, opts.events, opts.crashing_every = 4, 2, 100, 2
    store = scale_store(opts.deployments, opts.pods, opts.events, opts.crashing_every)
    server = MockApiServer(store).start()
    tmp = Path(tempfile.mkdtemp(prefix="mldoctor-bench-"))
    try:
        kubeconfig = str(write_kubeconfig(tmp / "kubeconfig", server.url))
        kubectl = shutil.which("kubectl")
        rows = [("mldoctor check k8s:ml-prod/*", timed(server, [
            sys.executable, "-m", "doctor", "check", "k8s:ml-prod/*", "--kubeconfig", kubeconfig,
            "--format", "json", "--output", str(tmp / "report.json")]))]
        collect_only = ("from doctor.collect.k8s import collect_k8s_namespace as c; "
                        f"c('k8s:ml-prod/*', kubeconfig={kubeconfig!r})")
        rows.append(("  of which collection (no rules)", timed(server, [sys.executable, "-c", collect_only])))
        if kubectl:
            rows.append(("kubectl get pods,events -o json", timed(server, [
                kubectl, "--kubeconfig", kubeconfig, "--cache-dir", str(tmp / "cache"), "get", "pods,events",
                "-n", "ml-prod", "-o", "json"])))
        print(f"namespace ml-prod: {len(store.objects['pods'])} pods, {len(store.objects['events'])} events, "
              f"{len(store.objects['deployments'])} deployments (every {opts.crashing_every}th crash-looping)")
        print(f"{'command':34} {'wall s':>7} {'exit':>4} {'API requests':>12} {'log requests':>12}")
        for name, (wall, code, api, logs) in rows:
            print(f"{name:34} {wall:7.2f} {code:4d} {api:12d} {logs:12d}")
        if not kubectl:
            print("kubectl not found: install the Debian package kubernetes-client for the comparison")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(code in (0, 1) for _, (_, code, _, _) in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
