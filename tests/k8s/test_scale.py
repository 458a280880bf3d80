"""Request counts do not grow with the number of pods (only log fetches of unhealthy containers do)."""

from __future__ import annotations

from typing import Any

import pytest

from doctor.collect import k8s, k8s_api
from tests.k8s.test_collect import collect
from tests.k8smock.synth import scale_store


def api_calls(cluster: Any) -> int:
    """Requests other than log fetches."""
    return cluster.server.count() - cluster.server.count(r"/log$")


@pytest.mark.parametrize("pods_per_deployment", [2, 60])
def test_namespace_check_request_count_is_flat(k8s_mock: Any, pods_per_deployment: int) -> None:
    """5 deployments × N healthy pods: the same 6 calls (version, deployments, replicasets, pods, events, hpa)."""
    cluster = k8s_mock(scale_store(5, pods_per_deployment, events_total=500))
    evidences = k8s.collect_k8s_namespace("k8s:ml-prod/*", kubeconfig=str(cluster.kubeconfig))
    assert len(evidences) == 5 and sum(len(e.states) for e in evidences) == 5 * pods_per_deployment
    assert api_calls(cluster) == 6
    assert cluster.server.count(r"/log$") == 5  # one healthy sample per deployment
    assert not cluster.server.writes()


def test_single_target_request_count_is_flat(k8s_mock: Any) -> None:
    """One deployment of 3 or of 150 pods: the same calls."""
    counts = []
    for n in (3, 150):
        cluster = k8s_mock(scale_store(1, n, events_total=n * 2))
        ev = collect(cluster, "k8s:ml-prod/deployment/scorer0000")
        assert len(ev.states) == n
        counts.append(api_calls(cluster))
    assert counts[0] == counts[1] == 6  # version, deployment, replicasets, pods, events, hpa


def test_pagination_follows_continue(k8s_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a page of 7, 40 pods take 6 pages and all arrive."""
    monkeypatch.setattr(k8s_api, "PAGE_LIMIT", 7)
    cluster = k8s_mock(scale_store(1, 40, events_total=10))
    ev = collect(cluster, "k8s:ml-prod/deployment/scorer0000")
    assert len({s.pod for s in ev.states}) == 40
    assert cluster.server.count(r"/pods$") == 6


def test_logs_only_for_unhealthy_containers_with_a_bound(k8s_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Crash-looping pods get current + previous logs; the fetches run at most LOG_WORKERS at once."""
    cluster = k8s_mock(scale_store(4, 5, events_total=40, crashing_every=2))
    evidences = k8s.collect_k8s_namespace("k8s:ml-prod/*", kubeconfig=str(cluster.kubeconfig))
    assert [len(e.logs) for e in evidences] == [1, 10, 1, 10]
    assert all(e.previous for e in evidences[1].logs[1::2])


def test_all_namespaces_uses_cluster_wide_lists(k8s_mock: Any) -> None:
    """`-A`: one cluster-wide list per kind (`/apis/apps/v1/deployments`, `/api/v1/pods`, …)."""
    cluster = k8s_mock(scale_store(3, 4, events_total=30))
    evidences = k8s.collect_k8s_namespace(None, kubeconfig=str(cluster.kubeconfig), all_namespaces=True)
    assert [e.target.name for e in evidences] == [f"ml-prod/deployment/scorer{i:04d}" for i in range(3)]
    paths = {r.path for r in cluster.server.requests}
    assert {"/apis/apps/v1/deployments", "/api/v1/pods", "/api/v1/events"} <= paths
    assert not any("/namespaces/" in p and not p.endswith("/log") for p in paths)
