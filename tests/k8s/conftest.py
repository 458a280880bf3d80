"""Fixtures for the Kubernetes tests: the mock API server (tests/k8smock)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.k8smock.plugin import k8s_mock  # noqa: F401  (a fixture, used by name)
