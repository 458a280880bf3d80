"""kubectl itself talks to the mock: it lists the fixture objects exactly as the fixture files hold them."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.k8smock.plugin import SCENARIOS, MockCluster

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (Debian: kubernetes-client)")


def kubectl(cluster: MockCluster, *args: str) -> Any:
    """Run kubectl against the mock and parse its JSON output."""
    cache = cluster.kubeconfig.parent / "kube-cache"
    cmd = [str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(cache), "--request-timeout", "10s", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def fixture_items(cluster: MockCluster, name: str) -> list[dict[str, Any]]:
    """The items of one fixture file in the `kubectl get … -o json` layout."""
    assert cluster.scenario is not None
    return json.loads((cluster.scenario / "k8s" / f"{name}.json").read_text())["items"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_kubectl_get_pods_and_events_match_fixture(k8s_mock: Any, scenario: str) -> None:
    """`kubectl get pods|events -n ml-prod -o json` returns the fixture objects."""
    cluster = k8s_mock(scenario)
    for kind in ("pods", "events"):
        got = kubectl(cluster, "get", kind, "-n", "ml-prod", "-o", "json")
        assert got["kind"] == "List"
        assert got["items"] == fixture_items(cluster, kind)
    assert not cluster.server.writes()


def test_kubectl_paginates_and_filters(k8s_mock: Any) -> None:
    """`--chunk-size` pages through `continue`, selectors filter server-side."""
    cluster = k8s_mock("hpa-max-503")
    got = kubectl(cluster, "get", "pods", "-n", "ml-prod", "-o", "json", "--chunk-size", "2")
    assert [p["metadata"]["name"] for p in got["items"]] == [p["metadata"]["name"] for p in fixture_items(cluster, "pods")]
    assert cluster.server.count(r"/namespaces/ml-prod/pods$") == 3
    one = fixture_items(cluster, "pods")[1]["metadata"]["name"]
    got = kubectl(cluster, "get", "pods", "-n", "ml-prod", "-o", "json", "-l", "app in (scorer,other)",
                  "--field-selector", f"metadata.name={one}")
    assert [p["metadata"]["name"] for p in got["items"]] == [one]


def test_kubectl_logs_previous(k8s_mock: Any) -> None:
    """`kubectl logs --previous` reads the previous container's log through pods/log."""
    cluster = k8s_mock("crashloop-init")
    pod = fixture_items(cluster, "pods")[0]["metadata"]["name"]
    cmd = [str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig), "logs", "-n", "ml-prod", pod, "-c", "scorer", "--previous"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "User's init function failed" in out
    assert "Worker (pid:9) exited with code 3" in out
    assert not out.startswith("2026-")  # no --timestamps: the kubelet stamps are stripped


def test_kubectl_get_all_kinds(k8s_mock: Any) -> None:
    """Nodes, deployments, replicasets, services and HPAs are served as the fixture files hold them."""
    cluster = k8s_mock("gpu-unschedulable")
    assert kubectl(cluster, "get", "nodes", "-o", "json")["items"] == fixture_items(cluster, "nodes")
    for kind, name in (("deployments", "deployments"), ("replicasets", "replicasets"), ("services", "services")):
        assert kubectl(cluster, "get", kind, "-n", "ml-prod", "-o", "json")["items"] == fixture_items(cluster, name)
    cluster = k8s_mock("hpa-max-503")
    assert kubectl(cluster, "get", "hpa", "-A", "-o", "json")["items"] == fixture_items(cluster, "hpa")
