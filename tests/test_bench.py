"""Every benchmark in bench/ runs in its short mode (a few MB), so a broken benchmark fails the build.
(The Docker one needs the engine: tests/docker/test_bench_docker.py.) Figures are not asserted: speed targets
live in bench/README.md, not in timed unit tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py"))


def run_bench(name: str, *args: str) -> str:
    """Run `bench/NAME --short ARGS`; its output, after asserting it exited 0."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / name), "--short", *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, f"bench/{name} --short exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_benchmark_is_run_here() -> None:
    """A benchmark added to bench/ gets a test that runs it short (here, tests/docker/test_bench_docker.py, or its own)."""
    tests = "\n".join(p.read_text("utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    unrun = [name for name in BENCHES if f'"{name}"' not in tests and f"bench/{name}" not in tests
             and f'"bench" / "{name}"' not in tests]
    assert not unrun, unrun


@pytest.mark.parametrize("name,needle", [("scan.py", "ratio vs rg: whole check"),
                                         ("traffic.py", "identical stats: True"),
                                         ("k8s_namespace.py", "mldoctor check k8s:ml-prod/*"),
                                         ("pasted.py", "parts ["),
                                         ("simulate.py", "identical")])
def test_benchmark_short_mode(name: str, needle: str) -> None:
    assert needle in run_bench(name)
