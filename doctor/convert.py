"""Raw `docker inspect` / `kubectl get -o json` objects turned into evidence records.

Shared by the offline bundle reader and the live collectors, so a live check and a check of the
bundle it wrote see exactly the same evidence.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable

from doctor.evidence import Autoscaler, ContainerState, Event, Node, Probe, StatusCondition, VolumeClaim, Workload

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def quantity(text: Any) -> float | None:
    """A Kubernetes quantity (`512Mi`, `500m`, `2`) as a number; None when absent or unreadable."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def parse_http_date(text: str) -> datetime:
    """An RFC 2822 date (an HTTP `date:` header, kubectl's old event times) as a datetime: email.utils' parser,
    imported when a date is read (email.utils takes ~10 ms to import). Raises as it does (TypeError, ValueError)."""
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(text)


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time (Docker's nanoseconds included) as an aware datetime; None when absent."""
    if isinstance(text, datetime):  # YAML (`kubectl get -o yaml`) reads an unquoted timestamp as a datetime
        return text if text.tzinfo else text.replace(tzinfo=timezone.utc)
    if not text or not isinstance(text, str) or text.startswith("0001-01-01"):
        return None
    text = text.strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_time(when: datetime | None, timespec: str = "auto") -> str | None:
    """An aware time as RFC 3339 in UTC with `Z` (what bundles and reports write), or None; `timespec` as
    datetime.isoformat's (`seconds` for whole seconds)."""
    return when.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z") if when else None


# --- Docker -----------------------------------------------------------------------------------


def docker_state(inspect: dict[str, Any], source: str) -> ContainerState:
    """One container's `docker inspect` object as a ContainerState."""
    state = inspect.get("State") or {}
    host = inspect.get("HostConfig") or {}
    config = inspect.get("Config") or {}
    name = str(inspect.get("Name") or inspect.get("Id", "?")[:12]).lstrip("/")
    health = (state.get("Health") or {}).get("Status")
    return ContainerState(
        source=source,
        container=name,
        status=str(state.get("Status") or "unknown"),
        reason="OOMKilled" if state.get("OOMKilled") else (state.get("Error") or None),
        exit_code=state.get("ExitCode") if state.get("Status") in ("exited", "dead", "restarting") else None,
        oom_killed=bool(state.get("OOMKilled")),
        restart_count=int(inspect.get("RestartCount") or 0),
        ready=(health == "healthy") if health else state.get("Running"),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        memory_limit_bytes=int(host["Memory"]) if host.get("Memory") else None,
        cpu_limit=(host["NanoCpus"] / 1e9) if host.get("NanoCpus") else None,
        image=config.get("Image"),
        health=health,
        restart_policy=(host.get("RestartPolicy") or {}).get("Name") or None,
        host_network=host.get("NetworkMode") == "host",
        env=tuple(_safe_env(*_split_env(str(e))) for e in (config.get("Env") or [])),
        command=_command([inspect.get("Path")] + list(inspect.get("Args") or [])
                         if inspect.get("Path") else list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])),
    )


def _command(parts: list[Any]) -> tuple[str, ...]:
    """A command line as strings, secrets masked."""
    from doctor.redact import redact_text

    return tuple(redact_text(str(p)) for p in parts if p is not None)


def _safe_env(name: str, value: str) -> tuple[str, str]:
    """An environment entry with its value masked when it is (or looks like) a secret."""
    from doctor.redact import MASK, is_secret_name, redact_text

    return name, (MASK if is_secret_name(name) and value else redact_text(value))


def _split_env(item: str) -> tuple[str, str]:
    key, _, value = item.partition("=")
    return key, value


def docker_event(obj: dict[str, Any], source: str) -> Event:
    """One `docker events --format '{{json .}}'` object as an Event."""
    actor = obj.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    action = str(obj.get("Action") or obj.get("status") or "")
    when = _event_time(obj)
    detail = ", ".join(f"{k}={v}" for k, v in sorted(attrs.items()) if k in ("exitCode", "signal", "name", "image"))
    return Event(
        source=source,
        object_kind="container",
        object_name=str(attrs.get("name") or obj.get("id") or actor.get("ID", ""))[:64],
        reason=action.split(":")[0],
        message=f"{action} ({detail})" if detail else action,
        type="Warning" if action.split(":")[0] in ("oom", "die", "kill") else "Normal",
        first_time=when,
        last_time=when,
    )


def _event_time(obj: dict[str, Any]) -> datetime | None:
    if obj.get("timeNano"):
        return datetime.fromtimestamp(int(obj["timeNano"]) / 1e9, tz=timezone.utc)
    if obj.get("time"):
        return datetime.fromtimestamp(int(obj["time"]), tz=timezone.utc)
    return None


# --- Kubernetes -------------------------------------------------------------------------------


def k8s_pod_states(pod: dict[str, Any], source: str) -> list[ContainerState]:
    """Every container of one pod (as `kubectl get pod -o json` prints it), init containers first, as ContainerStates."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    unscheduled = _pod_condition(status, "PodScheduled")
    pod_info = {"pod": meta.get("name"), "phase": status.get("phase"), "restart_policy": spec.get("restartPolicy"),
                "owner": _owner(meta), "node_selector": {str(k): str(v) for k, v in (spec.get("nodeSelector") or {}).items()},
                "host_network": spec.get("hostNetwork") is True}
    states = []
    for key, status_key, init in (("initContainers", "initContainerStatuses", True),
                                  ("containers", "containerStatuses", False)):
        statuses = {s.get("name"): s for s in status.get(status_key) or []}
        for container in spec.get(key) or []:
            cstatus = statuses.get(container.get("name"), {})
            states.append(_k8s_container(pod_info, container, cstatus, source, unscheduled, init))
    return states


def _owner(meta: dict[str, Any]) -> str | None:
    """The controller owning an object, as KIND/NAME."""
    ref = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    return f"{ref.get('kind')}/{ref.get('name')}" if ref else None


def _pod_condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "False":
            return cond
    return None


def _k8s_container(pod: dict[str, Any], container: dict[str, Any], cstatus: dict[str, Any], source: str,
                   unscheduled: dict[str, Any] | None, init: bool) -> ContainerState:
    state_name, detail = next(iter((cstatus.get("state") or {"pending": {}}).items()))
    _, last = next(iter((cstatus.get("lastState") or {"none": {}}).items()))
    detail, last = detail or {}, last or {}
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    reason = detail.get("reason") or (unscheduled or {}).get("reason")
    return ContainerState(
        source=source,
        container=str(container.get("name")),
        pod=pod["pod"],
        status=state_name,
        reason=reason,
        message=detail.get("message") or (unscheduled or {}).get("message"),
        exit_code=detail.get("exitCode"),
        oom_killed=reason == "OOMKilled",
        restart_count=int(cstatus.get("restartCount") or 0),
        ready=cstatus.get("ready"),
        started_at=parse_time(detail.get("startedAt")),
        finished_at=parse_time(detail.get("finishedAt")),
        last_reason=last.get("reason"),
        last_exit_code=last.get("exitCode"),
        last_started_at=parse_time(last.get("startedAt")),
        last_finished_at=parse_time(last.get("finishedAt")),
        last_message=last.get("message"),
        memory_limit_bytes=_int(quantity(limits.get("memory"))),
        memory_request_bytes=_int(quantity(requests.get("memory"))),
        cpu_limit=quantity(limits.get("cpu")),
        cpu_request=quantity(requests.get("cpu")),
        gpu_request=_int(quantity(limits.get("nvidia.com/gpu") or requests.get("nvidia.com/gpu"))) or 0,
        image=container.get("image"),
        probes=tuple(_probes(container)),
        command=_command(list(container.get("command") or []) + list(container.get("args") or [])),
        env=tuple(_safe_env(str(e.get("name", "")), str(e.get("value", ""))) for e in container.get("env") or []
                  if isinstance(e, dict) and "value" in e),
        phase=pod["phase"],
        restart_policy=pod["restart_policy"],
        host_network=pod["host_network"],
        init=init,
        owner=pod["owner"],
        ports=tuple(int(p["containerPort"]) for p in container.get("ports") or []
                    if isinstance(p, dict) and str(p.get("containerPort", "")).isdigit()),
        node_selector=pod["node_selector"],
    )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _probes(container: dict[str, Any]) -> list[Probe]:
    probes = []
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        spec = container.get(kind)
        if spec:
            probes.append(Probe(
                kind=kind.removesuffix("Probe"),
                initial_delay=float(spec.get("initialDelaySeconds", 0)),
                period=float(spec.get("periodSeconds", 10)),
                timeout=float(spec.get("timeoutSeconds", 1)),
                failure_threshold=int(spec.get("failureThreshold", 3)),
                success_threshold=int(spec.get("successThreshold", 1)),
                **_probe_handler(spec),
            ))
    return probes


def _probe_handler(spec: dict[str, Any]) -> dict[str, Any]:
    """What a probe checks: the handler kind, HTTP path, port and exec command."""
    for key, handler in (("httpGet", "http"), ("tcpSocket", "tcp"), ("grpc", "grpc"), ("exec", "exec")):
        action = spec.get(key)
        if isinstance(action, dict):
            port = action.get("port")
            return {"handler": handler, "path": action.get("path") if handler == "http" else None,
                    "port": None if port is None else str(port),
                    "command": tuple(str(c) for c in action.get("command") or ()) if handler == "exec" else ()}
    return {}


def k8s_event(ev: dict[str, Any], source: str) -> Event:
    """One core/v1 (or events.k8s.io/v1) event object as an Event."""
    involved = ev.get("involvedObject") or ev.get("regarding") or {}
    series = ev.get("series") or {}
    first = parse_time(ev.get("firstTimestamp") or ev.get("eventTime") or (ev.get("metadata") or {}).get("creationTimestamp"))
    last = parse_time(ev.get("lastTimestamp") or series.get("lastObservedTime")) or first
    return Event(
        source=source,
        object_kind=str(involved.get("kind") or ""),
        object_name=str(involved.get("name") or ""),
        reason=str(ev.get("reason") or ""),
        message=str(ev.get("message") or ev.get("note") or ""),
        type=str(ev.get("type") or "Normal"),
        count=int(ev.get("count") or series.get("count") or 1),
        first_time=first,
        last_time=last,
    )


def k8s_node(node: dict[str, Any], pods: list[dict[str, Any]], source: str) -> Node:
    """One node with what the non-terminated pods bound to it request."""
    meta, spec, status = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
    name = str(meta.get("name"))
    requested: dict[str, float] = {}
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName") != name:
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            for res, qty in ((container.get("resources") or {}).get("requests") or {}).items():
                requested[res] = requested.get(res, 0.0) + (quantity(qty) or 0.0)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return Node(
        source=source,
        name=name,
        allocatable={k: quantity(v) or 0.0 for k, v in (status.get("allocatable") or {}).items()},
        capacity={k: quantity(v) or 0.0 for k, v in (status.get("capacity") or {}).items()},
        requested=requested,
        taints=tuple(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in spec.get("taints") or []),
        labels=dict(meta.get("labels") or {}),
        ready=ready,
        unschedulable=bool(spec.get("unschedulable")),
    )


def _conditions(status: dict[str, Any]) -> tuple[StatusCondition, ...]:
    return tuple(StatusCondition(str(c.get("type") or ""), str(c.get("status") or "Unknown"), c.get("reason"),
                                 c.get("message"), parse_time(c.get("lastTransitionTime")))
                 for c in status.get("conditions") or [] if isinstance(c, dict))


def k8s_workload(obj: dict[str, Any], source: str, kind: str = "") -> Workload:
    """A Deployment / StatefulSet / ReplicaSet / Job object as a Workload (`kind` when the object lacks one)."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    kind = str(obj.get("kind") or kind)
    job = kind == "Job"
    desired = spec.get("completions", 1) if job else spec.get("replicas", 1)
    return Workload(
        source=source, kind=kind, name=str(meta.get("name") or ""),
        desired=None if desired is None else int(desired),
        ready=int(status.get("readyReplicas") or status.get("ready") or 0),
        available=int(status.get("availableReplicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        failed=int(status.get("failed") or 0) if job else 0,
        succeeded=int(status.get("succeeded") or 0) if job else 0,
        conditions=_conditions(status),
        owner=_owner(meta),
        progress_deadline_s=spec.get("progressDeadlineSeconds"),
        generation=meta.get("generation"),
        observed_generation=status.get("observedGeneration"),
    )




def k8s_hpa(obj: dict[str, Any], source: str) -> Autoscaler:
    """A HorizontalPodAutoscaler (autoscaling/v2, or v1 with targetCPUUtilizationPercentage) as an Autoscaler."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    metrics = [_metric(m, "target") for m in spec.get("metrics") or [] if isinstance(m, dict)]
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append(f"cpu {spec['targetCPUUtilizationPercentage']}%")
    current = [_metric(m, "current") for m in status.get("currentMetrics") or [] if isinstance(m, dict)]
    if status.get("currentCPUUtilizationPercentage") is not None:
        current.append(f"cpu {status['currentCPUUtilizationPercentage']}%")
    return Autoscaler(
        source=source, name=str(meta.get("name") or ""), target_kind=ref.get("kind"), target_name=ref.get("name"),
        min_replicas=int(spec.get("minReplicas") or 1),
        max_replicas=None if spec.get("maxReplicas") is None else int(spec["maxReplicas"]),
        current_replicas=status.get("currentReplicas"), desired_replicas=status.get("desiredReplicas"),
        metrics=tuple(m for m in metrics if m), current=tuple(m for m in current if m),
        conditions=_conditions(status),
    )


def _metric(metric: dict[str, Any], side: str) -> str:
    """One v2 metric spec / status as `NAME VALUE` (`cpu 70%`, `requests_per_second 10`)."""
    kind = str(metric.get("type") or "")
    body = metric.get(kind[:1].lower() + kind[1:]) or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or kind
    value = body.get(side) or {}
    if value.get("averageUtilization") is not None:
        return f"{name} {value['averageUtilization']}%"
    amount = value.get("averageValue") or value.get("value")
    return f"{name} {amount}" if amount is not None else str(name)


def k8s_pvc(obj: dict[str, Any], source: str) -> VolumeClaim:
    """A PersistentVolumeClaim as a VolumeClaim."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    return VolumeClaim(
        source=source, name=str(meta.get("name") or ""), phase=str(status.get("phase") or "Pending"),
        storage_class=spec.get("storageClassName"), requested_bytes=_int(quantity(storage)),
        access_modes=tuple(str(m) for m in spec.get("accessModes") or []), volume_name=spec.get("volumeName"),
    )


# Bundle file stem -> the Evidence list it fills and the converter (kubectl's List items carry their kind; a
# hand-made file may not, so the stem says it).
K8S_OBJECT_FILES: tuple[tuple[str, str, Callable[[dict[str, Any], str], Any]], ...] = (
    ("deployments", "workloads", lambda o, s: k8s_workload(o, s, "Deployment")),
    ("statefulsets", "workloads", lambda o, s: k8s_workload(o, s, "StatefulSet")),
    ("replicasets", "workloads", lambda o, s: k8s_workload(o, s, "ReplicaSet")),
    ("jobs", "workloads", lambda o, s: k8s_workload(o, s, "Job")),
    ("hpa", "autoscalers", k8s_hpa),
    ("pvcs", "pvcs", k8s_pvc),
)
