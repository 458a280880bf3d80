"""What was collected for one Kubernetes target (K8sRaw) and its Evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doctor.collect.k8s_api import Refused
from doctor.convert import K8S_OBJECT_FILES, k8s_event, k8s_node, k8s_pod_states
from doctor.evidence import CollectorError, Evidence, LogSource, Target

_CONFIG_STEMS = ("deployments", "replicasets", "statefulsets", "services", "hpa")  # as doctor.bundle reads them
_NOT_CHECKED = {"pods": "pod states, restarts and logs", "events": "scheduling, probe, pull and back-off events",
                "nodes": "node capacity and free GPU/CPU/memory", "replicasets": "which pods belong to the deployment",
                "horizontalpodautoscalers": "the autoscaler (min/max/current replicas)",
                "deployments": "the deployments of the namespace", "services": "the service selector",
                "statefulsets": "the statefulset", "pods/log": "container logs",
                "persistentvolumeclaims": "the pods' volume claims (phase, StorageClass)",
                "jobs": "the jobs that own the pods (completions, failures)"}


@dataclass
class K8sRaw:
    """The raw objects and log files collected for one target: what the bundle holds, what Evidence is built from."""

    target: str
    namespace: str
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # bundle file stem -> items
    logs: list[LogSource] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)
    node_pods: list[dict[str, Any]] = field(default_factory=list)  # pods bound to the nodes, for free capacity
    since: datetime | None = None
    now: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def items(self, stem: str) -> list[dict[str, Any]]:
        """The objects bound for `k8s/STEM.json`."""
        return self.objects.setdefault(stem, [])

    def refused(self, err: Refused, verb: str, resource: str, namespace: str | None) -> None:
        """Record a call that failed, saying what was refused and what is therefore not checked."""
        where = f'in namespace "{namespace}"' if namespace else "at cluster scope"
        head = f"{verb} {resource} {where} was refused (403 Forbidden)" if err.status == 403 else \
            f"{verb} {resource} {where} failed ({err.status or err.reason}): {err}"
        text = f"{head}; not checked: {_NOT_CHECKED.get(resource, resource)}"
        if err.status == 403:
            text += f". Server said: {err}"
        if all(e.error != text for e in self.errors):
            self.errors.append(CollectorError("k8s", text))

    def evidence(self) -> Evidence:
        """The normalised Evidence, through the same converters the bundle reader uses."""
        from doctor.config import from_k8s_object

        pods = self.items("pods")
        evidence = Evidence(
            target=Target("k8s", self.target),
            logs=list(self.logs),
            events=[k8s_event(e, "k8s/events.json") for e in self.items("events")],
            states=[s for p in pods for s in k8s_pod_states(p, "k8s/pods.json")],
            nodes=[k8s_node(n, self.node_pods, "k8s/nodes.json") for n in self.items("nodes")],
            configs=[f for stem in _CONFIG_STEMS for o in self.items(stem)
                     for f in from_k8s_object(o, f"k8s/{stem}.json")],
            collector_errors=list(self.errors),
            since=self.since,
            now=self.now,
            notes=list(self.notes),
        )
        for stem, into, convert_one in K8S_OBJECT_FILES:
            getattr(evidence, into).extend(convert_one(o, f"k8s/{stem}.json") for o in self.items(stem))
        return evidence


def uid_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid"))


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name"))

