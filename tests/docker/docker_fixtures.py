"""Fixtures for the tests against a real Docker engine: the engine, the test image, the scenario containers.

Not a conftest.py on purpose: tests/ has no __init__.py, so a second `conftest` module here would shadow
tests/conftest.py for `from conftest import ...`. Test modules import these fixtures by name; the state
lives in this module so the containers are created and driven once per run however many modules ask.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from docker_scenarios import BUSYBOX, IMAGE, SCENARIOS, Driven, Scenario, app_tar, create, drive, remove

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / ".ci" / "docker.sh"


def _ready_client() -> tuple[Any | None, str]:
    """A client for an engine that answers and has both test images, or None and what is missing."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no engine; the reason is shown
        return None, f"no engine answers ({exc})"
    for image in (IMAGE, BUSYBOX):
        try:
            client.images.get(image)
        except Exception as exc:  # noqa: BLE001
            client.close()
            return None, f"image {image} is missing ({exc})"
    return client, ""


def _start_engine() -> str:
    """Run .ci/docker.sh (root only): installs, starts dockerd, builds the image. Its output tail."""
    if os.geteuid() != 0 or not SETUP.exists():
        return "not root, so .ci/docker.sh was not run"
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=900)
    return (done.stdout + done.stderr)[-800:]


def required() -> bool:
    """The engine and the test images are required in CI (CI=true) or when MLDOCTOR_REQUIRE_DOCKER=1."""
    return os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("MLDOCTOR_REQUIRE_DOCKER") == "1"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A Docker client with the test images; fails when they are required (CI), else skips saying why."""
    client, why = _ready_client()
    if client is None:
        detail = _start_engine()
        client, why = _ready_client()
        if client is None:
            reason = f"Docker tests need an engine with {IMAGE} and {BUSYBOX}: {why}. .ci/docker.sh said: {detail}"
            if required():
                pytest.fail(reason)
            pytest.skip(reason)
    yield client
    client.close()


# The boot loop makes an `oom` event a few times a second, and the engine keeps only its last 256
# events: left running, it would push every other scenario's events out. It runs alone, briefly.
LONE = ("bootloop",)


_STARTED: dict[str, Scenario] = {}
_DRIVEN: dict[str, Driven] = {}


@pytest.fixture(scope="session")
def scenarios(docker_client: Any) -> Iterator[dict[str, Scenario]]:
    """The scenario containers, all started at once so they misbehave in parallel; removed at the end."""
    started = [s for s in SCENARIOS.values() if s.key not in LONE]
    # vfs copies the whole image per container: creating and removing in parallel saves most of the wait.
    with ThreadPoolExecutor(4) as pool:
        try:
            if not _STARTED:
                tar = app_tar()
                list(pool.map(lambda s: create(docker_client, s, tar), started))
                _STARTED.update({s.key: s for s in started})
            yield dict(_STARTED)
        finally:
            list(pool.map(lambda s: remove(docker_client, s.name), started))
            _STARTED.clear()
            _DRIVEN.clear()


@pytest.fixture(scope="session")
def driven(docker_client: Any, scenarios: dict[str, Scenario]) -> Callable[[str], Driven]:
    """`driven(key)`: the scenario put through its misbehaviour, once per session, however many tests ask."""

    def get(key: str) -> Driven:
        if key not in _DRIVEN:
            _DRIVEN[key] = drive(docker_client, scenarios[key])
        return _DRIVEN[key]

    return get


@pytest.fixture
def lone_scenario(docker_client: Any, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    """One scenario that must run alone (named by the test's parametrisation), removed right after."""
    scenario = SCENARIOS[request.param]
    try:
        create(docker_client, scenario, app_tar())
        yield scenario
    finally:
        try:
            docker_client.api.unpause(scenario.name)  # a test may have frozen it
        except Exception:
            pass
        remove(docker_client, scenario.name)


@pytest.fixture
def scratch(docker_client: Any) -> Iterator[list[str]]:
    """Names of extra containers a test creates; removed after it."""
    names: list[str] = []
    yield names
    for name in names:
        remove(docker_client, name)
