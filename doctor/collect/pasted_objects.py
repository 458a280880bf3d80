"""`kubectl get … -o yaml|json` output pasted as text (a List, one object, or the bare `- apiVersion: …` items of a
List): each object converted as the bundle's `k8s/*.json` files are, by its own `kind`.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import yaml

from doctor import convert, yamlsafe
from doctor.evidence import ContainerState, Evidence

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


# One field of a container's terminated state as `kubectl get pod -o yaml|json` prints it (`exitCode: 137`,
# `"reason": "OOMKilled",`): what `… | yq '.status.containerStatuses[0].lastState.terminated'` or a hand-copied
# part of the pod's status leaves in a paste
_FIELD = re.compile(r'^\s*"?(containerID|exitCode|finishedAt|message|reason|signal|startedAt)"?\s*:\s*"?(.*?)"?,?\s*$')
_LAST = re.compile(r"lastState|last_state|Last State", re.IGNORECASE)
_CURRENT = re.compile(r"(?<![A-Za-z])state\b")


def terminated_fragments(text: str, source: str) -> list[ContainerState]:
    """A container's terminated state pasted as a bare fragment of the pod's status (its own lines `exitCode: 137`,
    `reason: OOMKilled`, ... together): the state of a container the paste does not name (`UNNAMED_POD`, as a
    `kubectl describe` container block without its pod). Its previous run's when the lines before it say
    `lastState` (a yq/jq path or the parent key), else its current state."""
    from doctor.collect.kubectl_describe import UNNAMED, UNNAMED_POD

    lines = text.splitlines()[:20000]
    found: list[ContainerState] = []
    k = 0
    while k < len(lines):
        fields: dict[str, str] = {}
        first = k
        while k < len(lines) and (field := _FIELD.match(lines[k])) is not None and field.group(1) not in fields:
            fields[field.group(1)] = field.group(2)
            k += 1
        if k == first:
            k += 1
            continue
        if "exitCode" not in fields or not fields.get("reason") or not fields["exitCode"].lstrip("-").isdigit():
            continue
        before = "\n".join(lines[max(0, first - 3):first])
        detail = {"exitCode": int(fields["exitCode"]), "reason": fields["reason"], "message": fields.get("message"),
                  "startedAt": fields.get("startedAt"), "finishedAt": fields.get("finishedAt")}
        status = {"name": UNNAMED}
        if _LAST.search(before) or not _CURRENT.search(before):
            status |= {"lastState": {"terminated": detail}, "restartCount": 1}  # it ran again after it
        else:
            status |= {"state": {"terminated": detail}}
        pod = {"kind": "Pod", "metadata": {"name": UNNAMED_POD},
               "spec": {"containers": [{"name": UNNAMED}]}, "status": {"containerStatuses": [status]}}
        try:
            states = convert.k8s_pod_states(pod, source)
        except (TypeError, ValueError, OverflowError):
            continue
        found.extend(replace(s, status="unknown") if "state" not in status else s for s in states)  # not "pending"
    return found
