"""bench/docker_logs.py in its short mode on the real engine, so a broken benchmark fails the build."""

# ruff: noqa: F811  (pytest fixtures imported from docker_fixtures are parameters here)
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docker_fixtures import docker_client  # noqa: F401 - the fixture, by name
from docker_scenarios import PREFIX

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shape", [[], ["--shape", "mixed"]], ids=["one-line", "mixed"])
def test_docker_logs_benchmark_short(docker_client: Any, shape: list[str]) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "docker_logs.py"), "--short",
                           "--name", f"{PREFIX}bench-logs", *shape], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "ratio mldoctor check / docker logs" in done.stdout
