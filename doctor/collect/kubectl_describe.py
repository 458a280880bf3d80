"""`kubectl describe pod|deployment|node` text turned into the objects `kubectl get -o json` would give, then
converted by `doctor.convert` / `doctor.config` exactly as the JSON bundle is: the same ContainerState, Event,
Node and ConfigFact values, whichever form the evidence came in.

The text is read as an indentation tree of `Key:  value` lines (tabwriter spaces or the tabs of old kubectl
versions); the Events and Conditions tables are read by `kubectl_tables`. A fragment (one container's block
without the pod header, as pasted in tickets) is read as a pod with one container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from doctor.collect.kubectl_tables import EventTable, cells, header_of, k8s_time
from doctor.evidence import (
    Autoscaler,
    ConfigFact,
    ContainerState,
    Event,
    Node,
    VolumeClaim,
    Workload,
)

_KEY = re.compile(r"^([ \t]*)([A-Za-z][^:\t]*):(?:[ \t]+(.*))?$")
_PROBE_FIELD = re.compile(r"(delay|timeout|period|#success|#failure)=(\d+)")
# Keys that end a multi-line Message value (a termination message may hold `Traceback (...):` lines).
_FIELDS = frozenset({"Exit Code", "Signal", "Started", "Finished", "Ready", "Restart Count", "Last State", "State",
                     "Limits", "Requests", "Liveness", "Readiness", "Startup", "Environment", "Mounts", "Conditions",
                     "Volumes", "Events", "QoS Class", "Node-Selectors", "Tolerations", "Reason", "Image", "Containers"})
UNNAMED, UNNAMED_POD = "(unnamed)", "(unnamed pod)"  # a pasted container block that does not say whose it is
_PROBE_KEYS = {"Liveness": "livenessProbe", "Readiness": "readinessProbe", "Startup": "startupProbe"}


@dataclass
class Line:
    """One `Key: value` line (key None for any other line) with the lines indented under it."""

    indent: int
    key: str | None
    value: str
    children: list[Line] = field(default_factory=list)

    def get(self, key: str) -> Line | None:
        """The first child with this key."""
        return next((c for c in self.children if c.key == key), None)

    def text(self, key: str) -> str:
        """The value of the first child with this key ('' when absent or `<none>`)."""
        child = self.get(key)
        return "" if child is None or child.value in ("<none>", "<unset>") else child.value


@dataclass
class Described:
    """What one describe text holds, as records."""

    states: list[ContainerState] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    configs: list[ConfigFact] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    pvcs: list[VolumeClaim] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    kind: str = ""
    name: str = ""


def tree(lines: list[str]) -> Line:
    """The indentation tree of the lines before the Events table (a virtual root at indent -1)."""
    root = Line(-1, None, "")
    stack, message = [root], None
    for raw in lines:
        if not raw.strip():
            continue
        match = _KEY.match(raw.rstrip())
        key = match.group(2).strip() if match else None
        if message is not None and (key is None or key not in _FIELDS):
            message.value = (message.value + "\n" + raw.strip()).strip()
            continue
        indent = len((match.group(1) if match else raw[:len(raw) - len(raw.lstrip())]).replace("\t", "    "))
        node = Line(indent, key if key and "  " not in key and len(key) <= 48 else None,
                    (match.group(3) or "").strip() if match and key else raw.strip())
        if node.key is None and match:
            node.value = raw.strip()
        while stack[-1].indent >= indent:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
        message = node if node.key == "Message" else None
    return root


def kind_of(root: Line) -> str:
    keys = {c.key for c in root.children}
    if keys & {"Replicas", "StrategyType", "NewReplicaSet"}:
        return "Deployment"
    if keys & {"Pods Statuses", "Completions", "Parallelism"}:
        return "Job"
    if keys & {"Min replicas", "Max replicas", "Reference"} and "Containers" not in keys:
        return "HorizontalPodAutoscaler"
    if keys & {"StorageClass", "Access Modes", "VolumeMode"} and "Containers" not in keys:
        return "PersistentVolumeClaim"
    if keys & {"Roles", "Taints", "Allocatable", "Capacity", "System Info"} and "Containers" not in keys:
        return "Node"
    return "Pod"


def events_of(lines: list[str], source: str, out: Described) -> list[Event]:
    first = lines[0] if lines else ""
    body = [l for l in lines[1:]]
    if first.partition(":")[2].strip() == "<none>" or not body:
        return []
    header = next((i for i, l in enumerate(body) if l.strip()), None)
    if header is None:
        return []
    table = EventTable(body[header], source, out.kind or "Pod", out.name)
    for line in body[header + 1:]:
        if not table.feed(line) and not line.strip():
            continue
    return table.events()


# --- pods --------------------------------------------------------------------------------------


def pod_states(root: Line, source: str, scheduling: list[Event]) -> list[ContainerState]:
    """The pod's containers, through `convert.k8s_pod_states` as for `kubectl get pod -o json`."""
    from doctor.convert import k8s_pod_states

    pod = pod_object(root, scheduling)
    return k8s_pod_states(pod, source)


def pod_object(root: Line, scheduling: list[Event]) -> dict[str, Any]:
    """The pod as `kubectl get pod -o json` shows the fields describe prints."""
    mains = containers(root.get("Containers")) or _fragment(root)
    inits = containers(root.get("Init Containers"))
    conds = conditions(root.get("Conditions"))
    for cond in conds:
        if cond["type"] == "PodScheduled" and cond["status"] == "False" and scheduling:
            cond.update(reason="Unschedulable", message=scheduling[-1].message)
    status: dict[str, Any] = {"phase": root.text("Status").split(" ")[0] or None, "conditions": conds,
                              "containerStatuses": [s for _, s in mains if s],
                              "initContainerStatuses": [s for _, s in inits if s]}
    for key in ("Reason", "Message"):
        if root.text(key):
            status[key.lower()] = root.text(key)
    # a container block without its pod (`tfserving:` and its fields): a pod the paste does not name
    name = root.text("Name") or (UNNAMED_POD if mains and (mains[0][0]["name"] == UNNAMED or root.get("Containers") is None)
                                 else None)
    owner = root.text("Controlled By").partition("/")
    refs = [{"kind": owner[0], "name": owner[2], "controller": True}] if owner[2] else []
    return {"metadata": {"name": name, "namespace": root.text("Namespace") or None, "ownerReferences": refs},
            "spec": {"containers": [c for c, _ in mains], "initContainers": [c for c, _ in inits],
                     "nodeName": root.text("Node").split("/")[0] or None, "nodeSelector": _labels(root.get("Node-Selectors"))},
            "status": status}


def _fragment(root: Line) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """A pasted container block without its pod: the fields at the top, or under one `name:` line."""
    if root.get("State") or root.get("Restart Count") or root.get("Last State"):
        return [_container(Line(0, UNNAMED, "", root.children))]
    return containers(root) if any(c.get("State") or c.get("Restart Count") for c in root.children) else []


def containers(section: Line | None) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    if section is None:
        return []
    return [_container(c) for c in section.children if c.key and not c.value]


def _container(block: Line) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(spec, status) of one container block."""
    spec: dict[str, Any] = {"name": block.key, "image": block.text("Image") or None,
                            "resources": {"limits": resource_map(block.get("Limits")), "requests": resource_map(block.get("Requests"))},
                            "command": _list(block.get("Command")), "args": _list(block.get("Args")),
                            "env": _env(block.get("Environment"))}
    for label, key in _PROBE_KEYS.items():
        if block.text(label):
            spec[key] = probe_spec(block.text(label))
    if block.get("State") is None and block.get("Restart Count") is None and block.get("Last State") is None:
        return spec, None
    status = {"name": block.key, "ready": _bool(block.text("Ready")),
              "restartCount": int(block.text("Restart Count")) if block.text("Restart Count").isdigit() else 0,
              "state": _state(block.get("State")) or {"waiting": {}},
              "lastState": _state(block.get("Last State")) or {}}
    if block.get("State") is None:
        status.pop("state")
    return spec, status


def _state(line: Line | None) -> dict[str, Any] | None:
    """`State: Terminated` with its Reason / Exit Code / Started / Finished / Message as the API's state object."""
    if line is None or not line.value or line.value in ("<none>",):
        return None
    name = line.value.split()[0].lower()
    detail: dict[str, Any] = {}
    for key, api in (("Reason", "reason"), ("Message", "message")):
        if line.text(key):
            detail[api] = line.text(key)
    if line.text("Exit Code").lstrip("-").isdigit():
        detail["exitCode"] = int(line.text("Exit Code"))
    for key, api in (("Started", "startedAt"), ("Finished", "finishedAt")):
        when = k8s_time(line.text(key))
        if when:
            from doctor.convert import format_time

            detail[api] = format_time(when)
    return {name: detail}


def probe_spec(text: str) -> dict[str, Any]:
    """`http-get http://:5001/ delay=10s timeout=1s period=10s #success=1 #failure=3` as a probe object."""
    fields = dict(_PROBE_FIELD.findall(text))
    names = {"delay": "initialDelaySeconds", "timeout": "timeoutSeconds", "period": "periodSeconds",
             "#success": "successThreshold", "#failure": "failureThreshold"}
    spec: dict[str, Any] = {names[k]: int(v) for k, v in fields.items()}
    action = text.split(" ")[0]
    spec[{"http-get": "httpGet", "exec": "exec", "tcp-socket": "tcpSocket", "grpc": "grpc"}.get(action, action)] = {}
    return spec


def resource_map(line: Line | None) -> dict[str, str]:
    return {c.key: c.value for c in line.children if c.key and c.value} if line else {}


def _list(line: Line | None) -> list[str]:
    if line is None:
        return []
    return ([line.value] if line.value and line.value != "<none>" else []) + [whole(c) for c in line.children]


def _labels(line: Line | None) -> dict[str, str]:
    """`Node-Selectors:` as a map (one `key=value` a line; `<none>` is empty)."""
    pairs = (item.partition("=") for item in _list(line))
    return {key.strip(): value.strip() for key, eq, value in pairs if eq and key.strip()}


def whole(line: Line) -> str:
    return f"{line.key}: {line.value}".rstrip() if line.key else line.value


def _env(line: Line | None) -> list[dict[str, str]]:
    """Literal env values only (`valueFrom` entries print as `<set to the key ...>` / `(v1:...)` and are skipped)."""
    if line is None:
        return []
    out = []
    for child in line.children:
        if child.key and not child.value.startswith(("<set to", "(v1:", "<set")):
            out.append({"name": child.key, "value": child.value})
    return out


def conditions(line: Line | None) -> list[dict[str, Any]]:
    if line is None or not line.children or line.children[0].key:
        return []
    header = header_of(line.children[0].value)
    out = []
    for row in line.children[1:]:
        values = cells(header, row.value) if row.key is None else {}
        if values.get("TYPE") and values.get("STATUS") in ("True", "False", "Unknown"):
            cond = {"type": values["TYPE"], "status": values["STATUS"]}
            cond.update({k.lower(): values[k] for k in ("REASON", "MESSAGE") if values.get(k)})
            out.append(cond)
    return out


def _bool(text: str) -> bool | None:
    return {"True": True, "False": False}.get(text)
