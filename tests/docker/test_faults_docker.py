"""Faults during a live Docker collection, made on the real engine: mldoctor talks to it through a unix-socket
proxy the test controls (`engine_proxy.py`), and the container is really removed, the engine's socket really
dies (after the log, or in the middle of it), or the engine pauses. Nothing in mldoctor or the SDK is patched.
The report is still produced from what was read, and names what could not be collected. (The test removes the
container through its own client: mldoctor never does.)"""

# ruff: noqa: F811  (pytest fixtures imported from docker_fixtures are parameters here)
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from docker_fixtures import docker_client  # noqa: F401 - the fixture, by name
from docker_scenarios import BUSYBOX, PREFIX, remove
from engine_proxy import EngineProxy

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]
BOOTS = 5000
LINE = "2026-11-25 15:40:04,920 I [12] gunicorn.error - Booting worker with pid: {}"


@pytest.fixture
def chatty(docker_client: Any) -> Iterator[str]:
    """A container that has written 5,000 boot lines and then sleeps."""
    name = f"{PREFIX}fault-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    script = f"i=0; while [ $i -lt {BOOTS} ]; do echo \"" + LINE.format("$i") + "\"; i=$((i+1)); done; sleep 600"
    container = docker_client.containers.run(BUSYBOX, ["sh", "-c", script], name=name, detach=True,
                                             network_mode="host")
    deadline = time.time() + 120
    while time.time() < deadline and f"pid: {BOOTS - 1}".encode() not in container.logs(tail=1):
        time.sleep(0.5)
    yield name
    remove(docker_client, name)


def check_through(proxy: EngineProxy, name: str) -> tuple[int, dict[str, Any], str]:
    """`mldoctor check docker:NAME --format json` with DOCKER_HOST at the proxy: exit code, report, stderr."""
    env = {**os.environ, "DOCKER_HOST": proxy.url}
    done = subprocess.run([sys.executable, "-m", "doctor", "check", f"docker:{name}", "--format", "json"],
                          capture_output=True, text=True, timeout=240, env=env, cwd=REPO)
    assert done.returncode in (0, 1), done.stderr  # a report from what was read, not a crash or exit 3
    return done.returncode, json.loads(done.stdout), done.stderr


def after_the_log(then: Any) -> Any:
    """A `decide` that calls `then(method, url)` on the first request after the log was asked for."""
    seen: list[str] = []  # the log request, then the one after it

    def decide(method: str, url: str) -> Any:
        if len(seen) == 1:
            seen.append(url)
            return then(method, url)
        if not seen and "/logs" in url:
            seen.append(url)
        return None

    return decide


def boots_read(report: dict[str, Any]) -> int:
    """How many boots the first finding counted in the log that was read."""
    first = report["findings"][0]
    assert first["rule_id"] == "worker-boot-loop", [f["rule_id"] for f in report["findings"]]
    return int(first["values"]["boot_count"])


def test_container_removed_mid_collection(chatty: str, docker_client: Any, tmp_path: Path) -> None:
    def rm_then_pass(method: str, url: str) -> None:
        docker_client.api.remove_container(chatty, force=True)  # gone before events and the listing are read

    proxy = EngineProxy(tmp_path / "engine.sock", after_the_log(rm_then_pass))
    _, report, _ = check_through(proxy, chatty)
    assert report["evidence"]["logs"] == 1 and report["evidence"]["containers"] == 1
    assert any("removed while it was being collected" in e["error"] for e in report["collector_errors"])
    assert boots_read(report) == BOOTS  # the log read before still counts, whole
    assert not any("/events" in r for r in proxy.requests)


def test_engine_socket_dies_after_the_log(chatty: str, tmp_path: Path) -> None:
    proxy = EngineProxy(tmp_path / "engine.sock", after_the_log(lambda method, url: "cut"))
    _, report, _ = check_through(proxy, chatty)
    assert proxy.dead.is_set()
    assert report["evidence"]["logs"] == 1
    errors = [e["error"] for e in report["collector_errors"]]
    assert any("engine stopped answering" in e and "may be incomplete" in e for e in errors), errors
    assert boots_read(report) == BOOTS


def test_engine_socket_dies_in_the_middle_of_the_log(chatty: str, tmp_path: Path) -> None:
    proxy = EngineProxy(tmp_path / "engine.sock", lambda method, url: None, cut_after_bytes={"/logs": 150_000})
    _, report, _ = check_through(proxy, chatty)
    assert proxy.dead.is_set()
    errors = [e["error"] for e in report["collector_errors"]]
    assert any("engine stopped answering" in e and "may be incomplete" in e for e in errors), errors
    assert 100 < boots_read(report) < BOOTS  # what was read before the cut, no more


def test_engine_that_pauses_gives_the_whole_report(chatty: str, tmp_path: Path) -> None:
    """An engine that stops answering for a while (each request held 2 s) gives the same report as one that does not."""
    steady = EngineProxy(tmp_path / "steady.sock", lambda method, url: None)
    _, expected, _ = check_through(steady, chatty)
    paused = EngineProxy(tmp_path / "paused.sock", lambda method, url: 2.0 if "/logs" in url or "/events" in url else None)
    started = time.monotonic()
    _, report, _ = check_through(paused, chatty)
    assert time.monotonic() - started >= 4.0  # the pauses happened
    assert not report["collector_errors"] and boots_read(report) == BOOTS
    assert report["findings"] == expected["findings"]
