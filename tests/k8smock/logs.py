"""`pods/{name}/log` as the kubelet answers it: container, previous, timestamps, tailLines, sinceSeconds, limitBytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.k8smock.store import Store


class LogError(Exception):
    """A 400 the API server returns for a log request (the texts are the kubelet's own)."""


def render_log(store: Store, pod: dict[str, Any], query: dict[str, str]) -> bytes:
    """The log bytes for one request, shaped by its query parameters."""
    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    container = _container(pod, query.get("container"))
    previous = query.get("previous") in ("true", "1")
    data = store.logs.get((namespace, name, container, previous))
    if data is None:
        data = _missing(pod, container, previous)
    lines = data.splitlines(keepends=True)
    if query.get("sinceSeconds"):
        cutoff = store.now - timedelta(seconds=int(query["sinceSeconds"]))
        lines = [ln for ln in lines if (_stamp(ln) or cutoff) >= cutoff]
    if query.get("tailLines"):
        lines = lines[-int(query["tailLines"]):] if int(query["tailLines"]) > 0 else []
    if query.get("timestamps") not in ("true", "1"):
        lines = [_strip_stamp(ln) for ln in lines]
    out = b"".join(lines)
    return out[: int(query["limitBytes"])] if query.get("limitBytes") else out


def _container(pod: dict[str, Any], asked: str | None) -> str:
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    every = names + [c["name"] for c in spec.get("initContainers") or []]
    if asked:
        if asked not in every:
            raise LogError(f'container {asked} is not valid for pod {pod["metadata"]["name"]}')
        return asked
    if len(names) == 1:
        return names[0]
    raise LogError(f'a container name must be specified for pod {pod["metadata"]["name"]}, '
                   f'choose one of: [{" ".join(names)}]')


def _missing(pod: dict[str, Any], container: str, previous: bool) -> bytes:
    """Empty log, or the kubelet's refusal when the container has not run (yet or before)."""
    status = next((s for s in (pod.get("status") or {}).get("containerStatuses") or [] if s.get("name") == container), None)
    name = pod["metadata"]["name"]
    if previous:
        if status and (status.get("lastState") or {}).get("terminated"):
            return b""
        raise LogError(f'previous terminated container "{container}" in pod "{name}" not found')
    waiting = ((status or {}).get("state") or {}).get("waiting")
    if status is None or (waiting and not (status.get("lastState") or {}).get("terminated")):
        reason = (waiting or {}).get("reason") or "ContainerCreating"
        text = "trying and failing to pull image" if reason in ("ImagePullBackOff", "ErrImagePull") else reason
        raise LogError(f'container "{container}" in pod "{name}" is waiting to start: {text}')
    return b""


def _stamp(line: bytes) -> datetime | None:
    head = line.split(b" ", 1)[0].decode(errors="replace")
    try:
        return datetime.fromisoformat(head[:26].rstrip("Z")).replace(tzinfo=UTC) if head.endswith("Z") else None
    except ValueError:
        return None


def _strip_stamp(line: bytes) -> bytes:
    head, _, rest = line.partition(b" ")
    return rest if head.endswith(b"Z") and b"T" in head else line
