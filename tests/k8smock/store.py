"""The objects a mock API server serves: loaded from a scenario directory (bundle layout) or built in memory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

_META = frozenset({"metadata.name", "metadata.namespace"})


@dataclass(frozen=True)
class ResourceType:
    """One API resource as discovery describes it."""

    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    fields: frozenset[str] = _META
    file: str = ""  # the bundle file holding its objects

    @property
    def group_version(self) -> str:
        """`v1` for the core group, `apps/v1` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version


_POD_FIELDS = _META | {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                       "status.phase", "status.podIP", "status.nominatedNodeName"}
_EVENT_FIELDS = _META | {f"involvedObject.{k}" for k in ("kind", "namespace", "name", "uid", "apiVersion",
                                                          "resourceVersion", "fieldPath")} | {
    "reason", "reportingComponent", "source", "type"}

TYPES: dict[str, ResourceType] = {t.plural: t for t in (
    ResourceType("pods", "Pod", "", "v1", short_names=("po",), fields=_POD_FIELDS, file="pods"),
    ResourceType("events", "Event", "", "v1", short_names=("ev",), fields=_EVENT_FIELDS, file="events"),
    ResourceType("nodes", "Node", "", "v1", namespaced=False, short_names=("no",),
                 fields=_META | {"spec.unschedulable"}, file="nodes"),
    ResourceType("services", "Service", "", "v1", short_names=("svc",), file="services"),
    ResourceType("namespaces", "Namespace", "", "v1", namespaced=False, short_names=("ns",)),
    ResourceType("deployments", "Deployment", "apps", "v1", short_names=("deploy",), file="deployments"),
    ResourceType("replicasets", "ReplicaSet", "apps", "v1", short_names=("rs",), file="replicasets"),
    ResourceType("statefulsets", "StatefulSet", "apps", "v1", short_names=("sts",), file="statefulsets"),
    ResourceType("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v2",
                 short_names=("hpa",), file="hpa"),
    ResourceType("persistentvolumeclaims", "PersistentVolumeClaim", "", "v1", short_names=("pvc",), file="pvcs"),
    ResourceType("jobs", "Job", "batch", "v1", file="jobs"),
)}


@dataclass
class Store:
    """Objects by resource plural, log texts by (namespace, pod, container, previous), and the server's clock."""

    objects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {p: [] for p in TYPES})
    logs: dict[tuple[str, str, str, bool], bytes] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    resource_version: int = 4711

    def add(self, plural: str, *objs: dict[str, Any]) -> None:
        """Add objects of one resource (kind/apiVersion are filled in when missing)."""
        rtype = TYPES[plural]
        for obj in objs:
            obj.setdefault("apiVersion", rtype.group_version)
            obj.setdefault("kind", rtype.kind)
            self.objects[plural].append(obj)

    def namespaces(self) -> list[str]:
        """Every namespace some object lives in."""
        names = {(o.get("metadata") or {}).get("namespace") for objs in self.objects.values() for o in objs}
        return sorted(n for n in names if n)

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The pod of that name, or None."""
        for pod in self.objects["pods"]:
            meta = pod.get("metadata") or {}
            if meta.get("name") == name and meta.get("namespace") == namespace:
                return pod
        return None


def load_scenario(directory: Path) -> Store:
    """A store holding a scenario directory: `k8s/*.json` lists, `k8s/logs/POD/CONTAINER[.previous].log`, manifest."""
    store = Store()
    manifest = _manifest(directory)
    if manifest.get("collected_at"):
        store.now = datetime.fromisoformat(str(manifest["collected_at"]))
    for plural, rtype in TYPES.items():
        path = directory / "k8s" / f"{rtype.file}.json"
        if rtype.file and path.exists():
            store.add(plural, *json.loads(path.read_text())["items"])
    _load_logs(store, directory / "k8s" / "logs", str(manifest.get("namespace") or "default"))
    return store


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _load_logs(store: Store, root: Path, default_ns: str) -> None:
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*.log")):
        pod_name, previous = path.parent.name, path.name.endswith(".previous.log")
        container = path.name.removesuffix(".log").removesuffix(".previous")
        namespace = _pod_namespace(store, pod_name) or default_ns
        store.logs[(namespace, pod_name, container, previous)] = path.read_bytes()


def _pod_namespace(store: Store, name: str) -> str | None:
    for pod in store.objects["pods"]:
        meta = pod.get("metadata") or {}
        if meta.get("name") == name:
            return str(meta.get("namespace"))
    return None
