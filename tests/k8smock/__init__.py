"""A mock Kubernetes API server for tests: the fixtures/k8s scenarios (generated, see fixtures/README.md) served over real HTTP on loopback."""

from tests.k8smock.server import Fault, MockApiServer, Request
from tests.k8smock.store import Store, load_scenario

__all__ = ["Fault", "MockApiServer", "Request", "Store", "load_scenario"]
