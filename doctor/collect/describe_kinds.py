"""The kinds `kubectl describe` prints besides pods: deployment, job, hpa, pvc and node text turned into the objects
`kubectl get -o json` gives, then converted by `doctor.convert` / `doctor.config` as the JSON bundle is; and
`describe`, the entry point for any `kubectl describe` text (pods through doctor.collect.kubectl_describe)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from doctor.collect.kubectl_describe import (
    Described,
    Line,
    conditions,
    containers,
    events_of,
    kind_of,
    pod_states,
    resource_map,
    tree,
    whole,
)
from doctor.collect.kubectl_tables import cells, header_of
from doctor.evidence import ConfigFact, Node, Workload

_REPLICAS = re.compile(r"(\d+) (desired|updated|total|available|unavailable)")
_HPA_METRIC = re.compile(r"resource (\w[\w.-]{0,60}) on pods\s{1,10}\(as a percentage of request\):\s{1,60}(\S{1,20}) / (\d{1,4})%")
_HPA_PODS = re.compile(r"(\d+) current / (\d+) desired")
_POD_STATUSES = re.compile(r"(\d+) (Active|Succeeded|Failed)")


def deployment_object(root: Line) -> dict[str, Any]:
    """The deployment as `kubectl get deployment -o json` shows the fields describe prints."""
    counts = {word: int(n) for n, word in _REPLICAS.findall(root.text("Replicas"))}
    template = root.get("Pod Template") or Line(0, None, "")
    # describe prints no ready count: an available replica is a ready one, so `available` is the ready count it shows
    status = {"replicas": counts.get("total"), "updatedReplicas": counts.get("updated"),
              "availableReplicas": counts.get("available", 0), "readyReplicas": counts.get("available", 0),
              "unavailableReplicas": counts.get("unavailable"),
              "conditions": conditions(root.get("Conditions"))}
    return {"kind": "Deployment", "metadata": {"name": root.text("Name") or None, "namespace": root.text("Namespace") or None},
            "spec": {"replicas": counts.get("desired"),
                     "template": {"spec": {"containers": [c for c, _ in containers(template.get("Containers"))]}}},
            "status": {k: v for k, v in status.items() if v is not None}}


def job_object(root: Line) -> dict[str, Any]:
    """The Job as `kubectl get job -o json` shows the fields describe prints (`Pods Statuses: 0 Active / 0 Succeeded / 2 Failed`)."""
    counts = {word: int(n) for n, word in _POD_STATUSES.findall(root.text("Pods Statuses"))}
    completions = root.text("Completions")
    return {"kind": "Job", "metadata": {"name": root.text("Name") or None, "namespace": root.text("Namespace") or None},
            "spec": {"completions": int(completions) if completions.isdigit() else None},
            "status": {"active": counts.get("Active", 0), "succeeded": counts.get("Succeeded", 0),
                       "failed": counts.get("Failed", 0), "conditions": conditions(root.get("Conditions"))}}


def hpa_object(root: Line) -> dict[str, Any]:
    """The autoscaler as `kubectl get hpa -o json` (autoscaling/v2) shows the fields describe prints."""
    kind, _, name = root.text("Reference").partition("/")
    metrics = root.get("Metrics")
    found = [_HPA_METRIC.search(c.value) for c in metrics.children] if metrics else []
    specs = [{"type": "Resource", "resource": {"name": m.group(1), "target": {
        "type": "Utilization", "averageUtilization": int(m.group(3))}}} for m in found if m]
    current = [{"type": "Resource", "resource": {"name": m.group(1), "current": {
        "averageUtilization": int(m.group(2).rstrip("%"))}}} for m in found if m and m.group(2).rstrip("%").isdigit()]
    pods = _HPA_PODS.search(root.text("Deployment pods") or root.text("StatefulSet pods"))
    minimum, maximum = root.text("Min replicas"), root.text("Max replicas")
    return {"kind": "HorizontalPodAutoscaler", "metadata": {"name": root.text("Name") or None},
            "spec": {"scaleTargetRef": {"kind": kind, "name": name}, "metrics": specs,
                     "minReplicas": int(minimum) if minimum.isdigit() else None,
                     "maxReplicas": int(maximum) if maximum.isdigit() else None},
            "status": {"currentReplicas": int(pods.group(1)) if pods else None,
                       "desiredReplicas": int(pods.group(2)) if pods else None, "currentMetrics": current,
                       "conditions": conditions(root.get("Conditions"))}}


def pvc_object(root: Line) -> dict[str, Any]:
    """The claim as `kubectl get pvc -o json` shows the fields describe prints (an empty StorageClass: none set)."""
    modes = root.text("Access Modes")
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": root.text("Name") or None},
            "spec": {"storageClassName": root.text("StorageClass") or None, "volumeName": root.text("Volume") or None,
                     "accessModes": [m.strip() for m in modes.split(",") if m.strip()]},
            "status": {"phase": root.text("Status") or "Pending",
                       "capacity": {"storage": root.text("Capacity")} if root.text("Capacity") else {}}}


def workload(obj: dict[str, Any], source: str, kind: str) -> Workload:
    from doctor.convert import k8s_workload

    return k8s_workload(obj, source, kind)


def deployment_of(root: Line, source: str) -> list[ConfigFact]:
    """The deployment's settings, through `config.from_k8s_object` as for the JSON."""
    from doctor.config import from_k8s_object

    return from_k8s_object(deployment_object(root), source)


def node_object(root: Line) -> dict[str, Any]:
    """The node as `kubectl get node -o json` shows the fields describe prints."""
    taints = []
    taint_line = root.get("Taints")
    for text in ([taint_line.value] + [c.value for c in taint_line.children]) if taint_line else []:
        if text and text != "<none>":
            key_value, _, effect = text.rpartition(":")
            key, _, value = key_value.partition("=")
            taints.append({"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect})
    labels_line = root.get("Labels")
    labels = [labels_line.value] + [whole(c) for c in labels_line.children] if labels_line else []
    ready = next((c for c in conditions(root.get("Conditions")) if c["type"] == "Ready"), None)
    return {"metadata": {"name": root.text("Name"), "labels": dict(l.partition("=")[::2] for l in labels if "=" in l)},
            "spec": {"taints": taints, "unschedulable": root.text("Unschedulable") == "true"},
            "status": {"capacity": resource_map(root.get("Capacity")), "allocatable": resource_map(root.get("Allocatable")),
                       "conditions": [ready] if ready else []}}


def node_of(root: Line, source: str) -> Node:
    """The node, through `convert.k8s_node`, with what its pods request from the `Allocated resources` table."""
    from doctor.convert import k8s_node, quantity

    node = k8s_node(node_object(root), [], source)
    requested: dict[str, float] = {}
    allocated = root.get("Allocated resources")
    rows = [c.value for c in allocated.children if c.key is None] if allocated else []
    header_at = next((i for i, r in enumerate(rows) if r.split()[:2] == ["Resource", "Requests"]), None)
    if header_at is not None:
        header = header_of(rows[header_at])
        for row in rows[header_at + 1:]:
            values = cells(header, row)
            amount = quantity(values.get("REQUESTS", "").split(" ")[0])
            if values.get("RESOURCE") and amount is not None and not values["RESOURCE"].startswith("-"):
                requested[values["RESOURCE"]] = amount
    shown = root.get("Conditions") is not None  # a paste without the Conditions table says nothing of readiness
    return dataclasses.replace(node, requested=requested, ready=node.ready if shown else True)


def describe(lines: list[str], source: str) -> Described:
    """Records from one `kubectl describe` text (a pod, deployment or node, or a container fragment)."""
    events_at = next((i for i, l in enumerate(lines) if l.rstrip() == "Events:" or l.startswith("Events:")), len(lines))
    root = tree(lines[:events_at])
    out = Described(kind=kind_of(root), name=root.text("Name"))
    table = events_of(lines[events_at:], source, out)
    if out.kind == "Node":
        out.nodes.append(node_of(root, source))
    elif out.kind == "Deployment":
        out.configs.extend(deployment_of(root, source))
        out.workloads.append(workload(deployment_object(root), source, "Deployment"))
    elif out.kind == "Job":
        out.workloads.append(workload(job_object(root), source, "Job"))
    elif out.kind == "HorizontalPodAutoscaler":
        from doctor.config import from_k8s_object
        from doctor.convert import k8s_hpa

        hpa = hpa_object(root)
        out.autoscalers.append(k8s_hpa(hpa, source))
        out.configs.extend(from_k8s_object(hpa, source))
    elif out.kind == "PersistentVolumeClaim":
        from doctor.convert import k8s_pvc

        out.pvcs.append(k8s_pvc(pvc_object(root), source))
    else:
        out.states.extend(pod_states(root, source, [e for e in table if e.reason == "FailedScheduling"]))
    out.events.extend(table)
    return out
