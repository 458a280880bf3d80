"""Pytest fixtures: a running mock API server per test and a kubeconfig pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.k8smock.server import MockApiServer
from tests.k8smock.store import Store, load_scenario

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.yaml").exists()) if FIXTURES.is_dir() else []


@dataclass
class MockCluster:
    """A started server, its kubeconfig file and the scenario directory it serves (if any)."""

    server: MockApiServer
    kubeconfig: Path
    scenario: Path | None = None

    @property
    def store(self) -> Store:
        """The objects being served."""
        return self.server.store


def write_kubeconfig(path: Path, url: str, namespace: str = "ml-prod") -> Path:
    """A kubeconfig with context `mock` (current, namespace set) and `other` for the same server."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "mock", "cluster": {"server": url}}],
        "users": [{"name": "mldoctor", "user": {"token": "mock-token-not-a-secret"}}],
        "contexts": [{"name": "mock", "context": {"cluster": "mock", "user": "mldoctor", "namespace": namespace}},
                     {"name": "other", "context": {"cluster": "mock", "user": "mldoctor", "namespace": "default"}}],
        "current-context": "mock",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def k8s_mock(tmp_path: Path) -> Iterator[Callable[[str | Store], MockCluster]]:
    """Factory: `k8s_mock("oom-killed")` or `k8s_mock(store)` starts a server; all are stopped after the test."""
    started: list[MockApiServer] = []

    def start(what: str | Store) -> MockCluster:
        scenario = FIXTURES / what if isinstance(what, str) else None
        store = load_scenario(scenario) if scenario else what
        server = MockApiServer(store).start()  # type: ignore[arg-type]
        started.append(server)
        kubeconfig = write_kubeconfig(tmp_path / f"kubeconfig-{len(started)}", server.url)
        return MockCluster(server, kubeconfig, scenario)

    yield start
    for server in started:
        server.stop()
