"""deploy/rbac.yaml is read-only, never touches Secrets, and covers every request the collector makes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from doctor.collect import k8s
from tests.k8smock.synth import scale_store

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"


def docs() -> list[dict[str, Any]]:
    """Every object in the manifest."""
    return [d for d in yaml.safe_load_all(RBAC.read_text()) if d]


def granted(kind: str, name: str) -> set[tuple[str, str, str]]:
    """(group, resource, verb) triples a role grants."""
    (role,) = [d for d in docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_only_read_verbs_and_no_secrets() -> None:
    """get/list/watch only; no secrets, configmaps, exec or wildcards."""
    for doc in docs():
        for rule in doc.get("rules") or []:
            assert set(rule["verbs"]) <= {"get", "list", "watch"}
            assert not set(rule["resources"]) & {"secrets", "configmaps", "pods/exec", "pods/attach", "*"}


def test_every_binding_names_an_existing_role_and_the_service_account() -> None:
    """Bindings point at roles of this file and at ServiceAccount mldoctor/mldoctor."""
    names = {(d["kind"], d["metadata"]["name"]) for d in docs()}
    for doc in (d for d in docs() if d["kind"].endswith("Binding")):
        assert (doc["roleRef"]["kind"], doc["roleRef"]["name"]) in names
        assert doc["subjects"] == [{"kind": "ServiceAccount", "name": "mldoctor", "namespace": "mldoctor"}]


def _needed(path: str, query: dict[str, str]) -> tuple[str, str, str]:
    """The (group, resource, verb) an API request needs."""
    parts = [p for p in path.split("/") if p]
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    resource = rest[0] + ("/" + rest[2] if len(rest) == 3 else "")
    return group, resource, "get" if len(rest) > 1 else "list"


def test_cluster_role_covers_every_request(k8s_mock: Any) -> None:
    """Run the namespace check and an unschedulable target; each request is allowed by mldoctor-reader."""
    cluster = k8s_mock(scale_store(3, 2, events_total=10, crashing_every=2))
    k8s.collect_k8s_namespace("k8s:ml-prod/*", kubeconfig=str(cluster.kubeconfig))
    gpu = k8s_mock("gpu-unschedulable")
    k8s.collect_k8s("k8s:ml-prod/deployment/gpu-scorer", kubeconfig=str(gpu.kubeconfig))
    allowed = granted("ClusterRole", "mldoctor-reader")
    requests = [r for c in (cluster, gpu) for r in c.server.requests if not re.match(r"^/version/?$", r.path)]
    assert {_needed(r.path, r.query) for r in requests} <= allowed
