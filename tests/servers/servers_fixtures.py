"""Pytest plumbing for the real-server tests: the engine, a stack's image, its scenario containers driven once.

Not a conftest.py on purpose (tests/ has no __init__.py: a second `conftest` would shadow tests/conftest.py).
Under CI=true (or MLDOCTOR_REQUIRE_SERVERS=1) a missing engine or image FAILS; elsewhere it skips loudly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest

from servers_scenarios import REPO, Expect, Scenario, create, drive, image, logs, remove

STRICT = os.environ.get("CI") == "true" or os.environ.get("MLDOCTOR_REQUIRE_SERVERS") == "1"


def unavailable(reason: str) -> None:
    """Fail under CI (a missing component is a regression there), skip loudly elsewhere."""
    if STRICT:
        pytest.fail(reason)
    pytest.skip(reason)


def client_with(stack: str) -> Any:
    """A Docker client whose engine has the stack's image (fails or skips, see `unavailable`)."""
    try:
        import docker

        client = docker.from_env(timeout=600)  # vfs copies the whole image per container: slow under load
        client.ping()
    except Exception as exc:  # noqa: BLE001  (any failure means: no engine)
        unavailable(f"no Docker engine ({exc}); .ci/docker.sh starts one")
    try:
        client.images.get(image(stack))
    except Exception:  # noqa: BLE001
        unavailable(f"image {image(stack)} missing: run `bash .ci/servers.sh {stack}`")
    return client


class Driven:
    """A stack's scenarios, started together, each driven once; `statuses[key]` what its requests got."""

    def __init__(self, client: Any, scenarios: list[Scenario]) -> None:
        self.client = client
        self.by_key = {s.key: s for s in scenarios}
        self.statuses: dict[str, list[int]] = {}
        self.errors: dict[str, str] = {}

    def start(self) -> None:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: create(self.client, s), self.by_key.values()))
            for s, outcome in zip(self.by_key.values(), pool.map(self._drive, self.by_key.values())):
                if isinstance(outcome, str):
                    self.errors[s.key] = outcome
                else:
                    self.statuses[s.key] = outcome

    def _drive(self, s: Scenario) -> list[int] | str:
        try:
            return drive(self.client, s)
        except AssertionError as exc:
            return f"{exc}\n--- log tail ---\n{logs(self.client, s.name)[-2500:]}"

    def get(self, key: str) -> Scenario:
        """The scenario, failing the test if its drive did not show the behaviour."""
        if key in self.errors:
            pytest.fail(self.errors[key])
        return self.by_key[key]

    def stop(self) -> None:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: remove(self.client, s.name), self.by_key.values()))


def driven_stack(stack: str, scenarios: list[Scenario]) -> Iterator[Driven]:
    """Generator for a module-scoped fixture: start and drive a stack's scenarios, remove them afterwards."""
    run = Driven(client_with(stack), scenarios)
    try:
        run.start()
        yield run
    finally:
        run.stop()


def check_json(target: str) -> tuple[int, dict[str, Any]]:
    """`python -m doctor check TARGET --format json` as a user runs it: exit code and report."""
    done = subprocess.run([sys.executable, "-m", "doctor", "check", target, "--format", "json"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode in (0, 1), f"check {target} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.returncode, json.loads(done.stdout)


def container_state(name: str) -> dict[str, Any]:
    """What the engine says of the container now (`docker inspect`'s State)."""
    import docker

    return dict(docker.from_env().api.inspect_container(name)["State"])


def truth(s: Scenario, state: dict[str, Any]) -> Expect | None:
    """What the first finding must be, given what the engine says happened: a worker killed for memory
    (`worker-oom`) is a container that kept running; when the kernel killed the container itself instead (the engine
    marks it OOMKilled and it exited: one loaded CI run, of TorchServe's memory-limit scenario), the container's
    own kill (`oom-killed`) is the root cause, with the same limit."""
    if s.expect is not None and s.expect.rule == "worker-oom" and state.get("OOMKilled") and not state.get("Running"):
        return Expect("oom-killed", {k: v for k, v in s.expect.values.items() if k == "memory_limit_bytes"})
    return s.expect


def assert_first(s: Scenario, code: int, report: dict[str, Any]) -> None:
    """The report's first finding is the scenario's expected rule with its key facts (or healthy)."""
    ids = [f["rule_id"] for f in report["findings"]]
    state = container_state(s.name)
    expect = truth(s, state)
    if expect is None:
        assert code == 0 and report["status"] == "healthy", (ids, report["findings"][:1])
        assert not [f for f in report["findings"] if f["severity"] in ("warning", "error", "critical")]
        return
    assert code == 1 and report["status"] == "failing", ids
    first = report["findings"][0]
    assert first["rule_id"] == expect.rule, (ids, first["title"], state)
    assert {k: first["values"].get(k) for k in expect.values} == expect.values, first["values"]
    text = (first["title"] + " " + first["cause"]).lower()
    for fact in expect.cause:
        assert fact.lower() in text, (fact, text)
    for fact in expect.fix:
        assert fact in first["fix"], (fact, first["fix"])
    assert not report["collector_errors"], report["collector_errors"]
