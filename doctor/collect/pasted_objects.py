"""`kubectl get … -o yaml|json` output pasted as text (a List, one object, or the bare `- apiVersion: …` items of a
List): each object converted as the bundle's `k8s/*.json` files are, by its own `kind`.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from doctor import convert, yamlsafe
from doctor.evidence import Evidence

_STARTS = ("{", "[", "-", "apiVersion:", "kind:", "items:", "metadata:")
_KIND_FILE = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ReplicaSet": "replicasets", "Job": "jobs",
              "HorizontalPodAutoscaler": "hpa", "PersistentVolumeClaim": "pvcs"}


def objects_of(text: str) -> list[dict[str, Any]]:
    """The Kubernetes objects the text holds (none when it is not a JSON or YAML document of objects with a kind)."""
    head = text.lstrip()
    if not head.startswith(_STARTS):
        return []
    try:
        data = json.loads(text) if head[:1] in "{[" else yamlsafe.safe_load(text)
    except (ValueError, yaml.YAMLError, yamlsafe.YamlRefused, RecursionError):
        return []
    items = data.get("items") if isinstance(data, dict) and isinstance(data.get("items"), list) else data
    found = items if isinstance(items, list) else [items]
    return [o for o in found if isinstance(o, dict) and isinstance(o.get("kind"), str) and o.get("kind") != "List"]


def add_objects(objects: list[dict[str, Any]], source: str, evidence: Evidence) -> int:
    """Add each object's records to the evidence, as the bundle reader does; the number of objects understood."""
    from doctor.config import from_k8s_object

    used = 0
    for obj in objects:
        kind = obj["kind"]
        try:
            if kind == "Event":
                evidence.events.append(convert.k8s_event(obj, source))
            elif kind == "Pod":
                evidence.states.extend(convert.k8s_pod_states(obj, source))
            elif kind == "Node":
                evidence.nodes.append(convert.k8s_node(obj, [], source))
            elif kind in _KIND_FILE:
                _by_file(_KIND_FILE[kind], obj, source, evidence)
                evidence.configs.extend(from_k8s_object(obj, source))
            else:
                continue
        except (TypeError, AttributeError, ValueError, KeyError, OverflowError):
            evidence.notes.append(f"{source}: a {kind} object that is not well-formed was left out")
            continue
        used += 1
    return used


def _by_file(stem: str, obj: dict[str, Any], source: str, evidence: Evidence) -> None:
    for file_stem, into, convert_one in convert.K8S_OBJECT_FILES:
        if file_stem == stem:
            getattr(evidence, into).append(convert_one(obj, source))
