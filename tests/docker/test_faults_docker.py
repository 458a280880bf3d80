"""Faults during a live Docker collection against the real engine: the container is removed while its log is
being read, or the engine stops answering after the log. The report is still produced from what was read, and
names what could not be collected. (The test removes the container through its own client: mldoctor never does.)"""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from docker_fixtures import docker_client  # noqa: F401 - the fixture, by name

BUSYBOX = "mldoctor-test-busybox:1"
LINE = "2026-11-25 15:40:04,920 I [12] gunicorn.error - Booting worker with pid: {}"


@pytest.fixture
def chatty(docker_client: Any) -> Iterator[str]:  # noqa: F811
    """A container that has written 5,000 boot lines and then sleeps."""
    name = f"mldoctor-t-fault-{int(time.time() * 1000) % 100000}"
    script = "i=0; while [ $i -lt 5000 ]; do echo \"" + LINE.format("$i") + "\"; i=$((i+1)); done; sleep 600"
    container = docker_client.containers.run(BUSYBOX, ["sh", "-c", script], name=name, detach=True,
                                             network_mode="host")
    deadline = time.time() + 120
    while time.time() < deadline and b"pid: 4999" not in container.logs(tail=1):
        time.sleep(0.5)
    yield name
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - the test may have removed it already
        pass


@pytest.mark.docker
def test_container_removed_mid_collection(cli: Any, chatty: str, docker_client: Any,  # noqa: F811
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from doctor.collect import docker as collector

    read_log = collector._collect_logs

    def then_removed(*args: Any, **kw: Any) -> None:
        read_log(*args, **kw)
        docker_client.containers.get(chatty).remove(force=True)  # gone before events and the listing are read

    monkeypatch.setattr(collector, "_collect_logs", then_removed)
    run = cli("check", f"docker:{chatty}", "--format", "json")
    assert run.code in (0, 1), run.err  # a report from what was read, not a crash or exit 3
    report = run.json()
    assert report["evidence"]["logs"] == 1 and report["evidence"]["containers"] == 1
    assert any("removed while it was being collected" in e["error"] for e in report["collector_errors"])
    assert report["findings"][0]["rule_id"] == "worker-boot-loop"  # the log read before still counts


@pytest.mark.docker
def test_engine_stops_answering_after_the_log(cli: Any, chatty: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from doctor.collect import docker as collector

    read_log = collector._collect_logs

    def then_engine_gone(client: Any, *args: Any, **kw: Any) -> None:
        import requests

        read_log(client, *args, **kw)

        def gone(*_: Any, **__: Any) -> Any:  # what the SDK raises when dockerd stops mid-run
            raise requests.exceptions.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file'))")

        for call in ("inspect_container", "events", "get_archive"):
            monkeypatch.setattr(client.api, call, gone)

    monkeypatch.setattr(collector, "_collect_logs", then_engine_gone)
    run = cli("check", f"docker:{chatty}", "--format", "json")
    assert run.code in (0, 1), run.err
    report = run.json()
    assert report["evidence"]["logs"] == 1
    assert any("engine stopped answering" in e["error"] for e in report["collector_errors"]), report["collector_errors"]
