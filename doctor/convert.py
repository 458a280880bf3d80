"""Raw `docker inspect` / `kubectl get -o json` objects turned into evidence records.

Shared by the offline bundle reader and the live collectors, so a live check and a check of the
bundle it wrote see exactly the same evidence.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from doctor.evidence import ContainerState, Event, Node, Probe

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


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time (Docker's nanoseconds included) as an aware datetime; None when absent."""
    if not text or not isinstance(text, str) or text.startswith("0001-01-01"):
        return None
    text = text.strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_time(when: datetime | None) -> str | None:
    """An aware time as RFC 3339 in UTC with `Z` (what bundles and reports write), or None."""
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if when else None


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
    """Every container of one pod (as `kubectl get pod -o json` prints it) as ContainerStates."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    unscheduled = _pod_condition(status, "PodScheduled")
    states = []
    for container in spec.get("containers") or []:
        cstatus = statuses.get(container.get("name"), {})
        states.append(_k8s_container(meta, status, container, cstatus, source, unscheduled))
    return states


def _pod_condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "False":
            return cond
    return None


def _k8s_container(meta: dict[str, Any], pstatus: dict[str, Any], container: dict[str, Any],
                   cstatus: dict[str, Any], source: str, unscheduled: dict[str, Any] | None) -> ContainerState:
    state_name, detail = next(iter((cstatus.get("state") or {"pending": {}}).items()))
    _, last = next(iter((cstatus.get("lastState") or {"none": {}}).items()))
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    reason = detail.get("reason") or (unscheduled or {}).get("reason")
    return ContainerState(
        source=source,
        container=str(container.get("name")),
        pod=meta.get("name"),
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
        phase=pstatus.get("phase"),
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
            ))
    return probes


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
