"""Big namespaces for scale tests and the benchmark: the fixture scenario's objects cloned N times."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

from tests.k8smock.store import Store, load_scenario

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"


def _renamed(obj: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A deep copy renamed `old` -> `new` in names, labels, selectors and owner references (containers keep theirs)."""
    obj = copy.deepcopy(obj)
    for meta in (obj["metadata"], ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}):
        for key in ("name", "generateName"):
            if key in meta:
                meta[key] = meta[key].replace(old, new, 1)
        labels = meta.get("labels") or {}
        labels.update({k: new for k in ("app", "azuremlappname") if labels.get(k) == old})
        for ref in meta.get("ownerReferences") or []:
            ref["name"] = ref["name"].replace(old, new, 1)
    match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    match.update({"app": new} if match.get("app") == old else {})
    return obj


def _new_uid(obj: dict[str, Any], seed: str) -> None:
    obj["metadata"]["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def scale_store(deployments: int, pods_per_deployment: int, events_total: int, crashing_every: int = 0) -> Store:
    """`deployments` copies of the healthy scorer, each with its pods; events spread over the pods.

    Every `crashing_every`-th deployment gets the crash-looping pod of the crashloop-init scenario instead.
    """
    healthy, crash = load_scenario(FIXTURES / "healthy"), load_scenario(FIXTURES / "crashloop-init")
    store = Store(now=healthy.now)
    pod_names: list[tuple[str, str]] = []
    for d in range(deployments):
        base = crash if crashing_every and d % crashing_every == crashing_every - 1 else healthy
        name = f"scorer{d:04d}"
        _clone_deployment(store, base, name, pods_per_deployment, pod_names)
    template = healthy.objects["events"][-1]
    for i in range(events_total):
        pod, uid = pod_names[i % len(pod_names)]
        ev = copy.deepcopy(template)
        ev["involvedObject"].update(name=pod, uid=uid)
        ev["metadata"]["name"] = f"{pod}.{i:016x}"
        store.add("events", ev)
    return store


def _clone_deployment(store: Store, base: Store, name: str, n_pods: int, pod_names: list[tuple[str, str]]) -> None:
    dep, rs = _renamed(base.objects["deployments"][0], "scorer", name), _renamed(base.objects["replicasets"][0], "scorer", name)
    _new_uid(dep, name)
    _new_uid(rs, name + "/rs")
    rs["metadata"]["ownerReferences"][0]["uid"] = dep["metadata"]["uid"]
    dep["spec"]["replicas"] = rs["spec"]["replicas"] = n_pods
    store.add("deployments", dep)
    store.add("replicasets", rs)
    template = base.objects["pods"][0]
    old_pod = template["metadata"]["name"]
    for i in range(n_pods):
        pod = _renamed(template, "scorer", name)
        pod["metadata"]["name"] = pod_name = f"{name}-{rs['metadata']['labels']['pod-template-hash']}-{i:05d}"
        _new_uid(pod, pod_name)
        pod["metadata"]["ownerReferences"][0]["uid"] = rs["metadata"]["uid"]
        store.add("pods", pod)
        pod_names.append((pod_name, pod["metadata"]["uid"]))
        for (ns, pname, container, previous), data in base.logs.items():
            if pname == old_pod:
                store.logs[(ns, pod_name, container, previous)] = data
