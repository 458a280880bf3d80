"""The live collector over real HTTP against the mock API server, one fixture scenario at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from doctor.collect.k8s import collect_k8s
from doctor.evidence import Evidence
from tests.k8smock.plugin import SCENARIOS, MockCluster

HOUR = timedelta(hours=1)


def collect(cluster: MockCluster, target: str = "k8s:ml-prod/deployment/scorer", **kw: Any) -> Evidence:
    """Collect one target from the mock cluster with its kubeconfig."""
    return collect_k8s(target, since=kw.pop("since", HOUR), kubeconfig=str(cluster.kubeconfig), **kw)


def log_text(ev: Evidence, suffix: str) -> str:
    """The text of the one log whose name ends with `suffix`."""
    (source,) = [s for s in ev.logs if s.name.endswith(suffix)]
    with source.open() as fh:
        return fh.read().decode()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_is_read_only_and_bounded(k8s_mock: Any, scenario: str) -> None:
    """No write verb is ever sent; a handful of list/get calls; every call has a timeout-bounded answer."""
    cluster = k8s_mock(scenario)
    name = "gpu-scorer" if scenario.startswith("gpu") else "scorer"
    ev = collect(cluster, f"k8s:ml-prod/deployment/{name}")
    assert not cluster.server.writes()
    assert {r.method for r in cluster.server.requests} == {"GET"}
    assert cluster.server.count() - cluster.server.count("/log$") <= 8
    assert ev.target.name == f"ml-prod/deployment/{name}"
    assert not ev.collector_errors
    assert ev.now is not None and ev.now.isoformat() == "2026-11-25T16:00:00+00:00"  # the server's Date


def test_gpu_unschedulable(k8s_mock: Any) -> None:
    """Pending pod, FailedScheduling with the scheduler's text, three nodes without nvidia.com/gpu."""
    ev = collect(k8s_mock("gpu-unschedulable"), "k8s:ml-prod/deployment/gpu-scorer")
    (state,) = ev.states
    assert (state.status, state.reason, state.phase, state.gpu_request) == ("pending", "Unschedulable", "Pending", 1)
    failed = [e for e in ev.events if e.reason == "FailedScheduling"]
    assert failed and "3 Insufficient nvidia.com/gpu" in failed[0].message and failed[0].count == 27
    assert len(ev.nodes) == 3 and all(n.allocatable.get("nvidia.com/gpu", 0) == 0 for n in ev.nodes)
    assert all(n.free("cpu") == pytest.approx(3.86) for n in ev.nodes)
    assert not ev.logs


def test_oom_killed(k8s_mock: Any) -> None:
    """lastState OOMKilled/137 with the 1Gi limit; current and previous logs fetched."""
    ev = collect(k8s_mock("oom-killed"))
    (state,) = ev.states
    assert (state.last_reason, state.last_exit_code, state.restart_count) == ("OOMKilled", 137, 4)
    assert state.memory_limit_bytes == 1024**3
    assert "Loading model" in log_text(ev, "scorer.previous.log")
    assert any(e.reason == "BackOff" for e in ev.events)


def test_crashloop_init_traceback_only_in_previous_log(k8s_mock: Any) -> None:
    """The init() traceback is in the previous log only, and it is collected."""
    ev = collect(k8s_mock("crashloop-init"))
    (state,) = ev.states
    assert (state.last_exit_code, state.restart_count, state.ready) == (3, 7, False)
    previous, current = log_text(ev, ".previous.log"), log_text(ev, "/scorer.log")
    assert "User's init function failed" in previous and "Worker (pid:9) exited with code 3" in previous
    assert 'File "/var/azureml-app/score.py", line 14, in init' in previous
    assert "init function failed" not in current
    assert previous.startswith("2026-11-25T")  # --timestamps, as the bundle layout wants


def test_image_pull_unauthorized(k8s_mock: Any) -> None:
    """ImagePullBackOff state and the registry's 401 in the Failed event; no log can exist."""
    ev = collect(k8s_mock("image-pull-unauthorized"))
    (state,) = ev.states
    assert (state.status, state.reason) == ("waiting", "ImagePullBackOff")
    assert any("unauthorized: authentication required" in e.message for e in ev.events if e.reason == "Failed")
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff"} <= {e.message for e in ev.events}
    assert not ev.logs


def test_probe_failures_during_slow_load(k8s_mock: Any) -> None:
    """Unhealthy and Killing events, the probe budget (10 + 3 x 10), logs of the slow init()."""
    ev = collect(k8s_mock("probe-slow-load"))
    (state,) = ev.states
    live = next(p for p in state.probes if p.kind == "liveness")
    assert live.budget_seconds == 40
    assert {e.reason for e in ev.events} >= {"Unhealthy", "Killing"}
    assert any(e.message.startswith("Liveness probe failed") for e in ev.events)
    assert "Handling signal: term" in log_text(ev, ".previous.log")


def test_hpa_at_max_with_503s(k8s_mock: Any) -> None:
    """Five ready pods, the HPA at maxReplicas (ScalingLimited), a sampled log with 503 answers."""
    ev = collect(k8s_mock("hpa-max-503"))
    assert len(ev.states) == 5 and all(s.ready for s in ev.states)
    (hpa,) = [c for c in ev.configs if c.kind == "hpa"]
    assert hpa.values["current_replicas"] == hpa.values["max_replicas"] == 5 and hpa.values["scaling_limited"]
    (source,) = ev.logs
    assert " 503 " in log_text(ev, source.name[-20:])


def test_healthy(k8s_mock: Any) -> None:
    """Two ready pods, no restarts, one healthy log sampled, nothing refused."""
    ev = collect(k8s_mock("healthy"))
    assert [s.ready for s in ev.states] == [True, True] and not any(s.restart_count for s in ev.states)
    assert len(ev.logs) == 1 and "ready for serving traffic" in log_text(ev, ev.logs[0].name[-20:])
    assert not any(e.type == "Warning" for e in ev.events)


@pytest.mark.parametrize("target", ["k8s:ml-prod/service/scorer", "k8s:ml-prod/svc/scorer", "k8s:deployment/scorer"])
def test_service_and_default_namespace_resolve_to_the_same_pods(k8s_mock: Any, target: str) -> None:
    """A service resolves through its selector; the namespace defaults to the kubeconfig context's."""
    cluster = k8s_mock("crashloop-init")
    ev = collect(cluster, target)
    assert [s.pod for s in ev.states] == ["scorer-5d8b7f9c4-9qzpl"]
    assert any(e.reason == "BackOff" for e in ev.events)


def test_pod_target_uses_a_field_selector(k8s_mock: Any) -> None:
    """A pod target asks only for that pod's events (fieldSelector), not the whole namespace's."""
    cluster = k8s_mock("crashloop-init")
    ev = collect(cluster, "k8s:ml-prod/pod/scorer-5d8b7f9c4-9qzpl")
    (events_call,) = [r for r in cluster.server.requests if r.path.endswith("/events")]
    assert "involvedObject.name=scorer-5d8b7f9c4-9qzpl" in events_call.query["fieldSelector"]
    assert {e.object_kind for e in ev.events} == {"Pod"} and len(ev.logs) == 2


def test_context_and_namespace_flags(k8s_mock: Any) -> None:
    """`--context other` points at namespace default (not found: a wrong name is bad input, exit 2); `-n ml-prod` fixes it."""
    from doctor.errors import InputError, UnreachableError

    cluster = k8s_mock("healthy")
    with pytest.raises(InputError, match='deployment "scorer" not found in namespace "default"'):
        collect(cluster, "k8s:deployment/scorer", context="other")
    ev = collect(cluster, "k8s:deployment/scorer", context="other", namespace="ml-prod")
    assert len(ev.states) == 2
