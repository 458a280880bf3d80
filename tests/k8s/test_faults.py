"""403, 429, 500, slow answers, a dropped log stream and an API server that is down."""

from __future__ import annotations

from typing import Any

import pytest

from doctor.collect import k8s, k8s_api
from doctor.errors import UnreachableError
from tests.k8s.test_collect import collect, log_text


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off capped at 10 ms so retry tests stay fast (Retry-After is still honoured up to the cap)."""
    monkeypatch.setattr(k8s_api, "MAX_BACKOFF", 0.01)


def test_403_on_nodes_is_reported_and_the_run_goes_on(k8s_mock: Any) -> None:
    """A namespaced Role cannot list nodes: the report says so, pods and events are still there."""
    cluster = k8s_mock("gpu-unschedulable")
    cluster.server.add_fault(r"^/api/v1/nodes$", status=403)
    ev = collect(cluster, "k8s:ml-prod/deployment/gpu-scorer")
    (err,) = ev.collector_errors
    assert "list nodes at cluster scope was refused (403 Forbidden)" in err.error
    assert "not checked: node capacity and free GPU/CPU/memory" in err.error
    assert 'cannot list resource "nodes"' in err.error  # the server's own Status message
    assert ev.states and any(e.reason == "FailedScheduling" for e in ev.events) and not ev.nodes


def test_403_on_pod_logs(k8s_mock: Any) -> None:
    """No pods/log permission: one error naming it, states and events still collected."""
    cluster = k8s_mock("crashloop-init")
    cluster.server.add_fault(r"/log$", status=403)
    ev = collect(cluster)
    assert [e.error.split(";")[0] for e in ev.collector_errors] == [
        'get pods/log in namespace "ml-prod" was refused (403 Forbidden)']
    assert not ev.logs and ev.states and ev.events


def test_403_on_the_deployment_falls_back_to_pod_names(k8s_mock: Any) -> None:
    """Without `get deployments`, the pods named after the deployment are still diagnosed."""
    cluster = k8s_mock("oom-killed")
    cluster.server.add_fault(r"/deployments/scorer$", status=403)
    ev = collect(cluster)
    assert "get deployments.apps" in ev.collector_errors[0].error
    assert [s.last_reason for s in ev.states] == ["OOMKilled"]


def test_429_is_retried_after_retry_after(k8s_mock: Any) -> None:
    """Two 429s with Retry-After, then success: same evidence, three pod list calls."""
    cluster = k8s_mock("oom-killed")
    cluster.server.add_fault(r"/namespaces/ml-prod/pods$", status=429, retry_after=1, times=2)
    ev = collect(cluster)
    assert not ev.collector_errors and len(ev.states) == 1
    assert [r.status for r in cluster.server.requests if r.path.endswith("/pods")] == [429, 429, 200]


def test_500_is_retried_then_reported(k8s_mock: Any) -> None:
    """One 500 is retried away; a persistent 500 on events becomes an error and the run goes on."""
    cluster = k8s_mock("probe-slow-load")
    cluster.server.add_fault(r"/replicasets$", status=500, times=1)
    cluster.server.add_fault(r"/events$", status=500)
    ev = collect(cluster)
    (err,) = ev.collector_errors
    assert 'list events in namespace "ml-prod" failed (500)' in err.error
    assert cluster.server.count(r"/events$") == k8s_api.RETRIES + 1
    assert ev.states and ev.logs


def test_slow_answer_times_out_and_is_retried(k8s_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer slower than the read timeout is abandoned and asked again."""
    monkeypatch.setattr(k8s_api, "TIMEOUT", (2.0, 0.5))
    cluster = k8s_mock("healthy")
    cluster.server.add_fault(r"/events$", delay=1.5, times=1)
    ev = collect(cluster)
    assert not ev.collector_errors and ev.events
    assert cluster.server.count(r"/events$") == 2


def test_connection_dropped_mid_log_keeps_the_part_read(k8s_mock: Any) -> None:
    """A log stream cut mid-way: the bytes read are kept and the cut is reported."""
    cluster = k8s_mock("crashloop-init")
    cluster.server.add_fault(r"/log$", drop_after=300, query={"previous": "true"})
    ev = collect(cluster)
    (err,) = ev.collector_errors
    assert "scorer.previous.log was cut off after 300 bytes" in err.error
    assert len(log_text(ev, ".previous.log")) == 300


def test_api_server_down_is_unreachable(k8s_mock: Any) -> None:
    """Nothing listening: UnreachableError, which the CLI turns into exit 3."""
    cluster = k8s_mock("healthy")
    cluster.server.stop()
    with pytest.raises(UnreachableError, match="cannot reach the Kubernetes API server") as info:
        collect(cluster)
    assert info.value.exit_code == 3


def test_secrets_are_redacted_in_the_bundle(k8s_mock: Any, tmp_path: Any) -> None:
    """Env values named *KEY* are masked in pods/deployments; secretKeyRef stays a reference; no Secret objects."""
    cluster = k8s_mock("crashloop-init")
    k8s.collect_k8s_bundle("k8s:ml-prod/deployment/scorer", tmp_path, kubeconfig=str(cluster.kubeconfig))
    text = "".join(p.read_text() for p in (tmp_path / "k8s").glob("*.json"))
    assert "9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b" not in text and "REDACTED" in text
    assert '"secretKeyRef"' in text and '"kind": "Secret"' not in text
    assert (tmp_path / "k8s/logs/scorer-5d8b7f9c4-9qzpl/scorer.previous.log").exists()
    assert "collected_at: '2026-11-25T16:00:00Z'" in (tmp_path / "manifest.yaml").read_text()
