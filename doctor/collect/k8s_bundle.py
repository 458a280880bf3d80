"""The Kubernetes bundle layout: redacted objects as `kubectl get -o json` prints them, logs, manifest."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doctor.collect.k8s_raw import K8sRaw, uid_of
from doctor.convert import format_time


def redact_object(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` (changed in place: freshly parsed, never shared) with secret env values masked, no managedFields or last-applied."""
    from doctor.redact import MASK, is_secret_name, redact_strings

    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    spec = obj.get("spec") or {}
    pod_spec = ((spec.get("template") or {}).get("spec")) or spec
    for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if env.get("value") and is_secret_name(str(env.get("name"))):
                env["value"] = MASK  # by name; every other string is masked by content just below
    return redact_strings(obj)  # type: ignore[no-any-return]  # args, annotations, event messages


def redact_all(raw: K8sRaw) -> None:
    for stem, items in raw.objects.items():
        raw.objects[stem] = [redact_object(o) for o in items if o.get("kind") != "Secret"]


def write_bundle(raw: K8sRaw, root: Path) -> list[Path]:
    """Write `k8s/*.json` (as `kubectl get -o json` prints them) and `k8s/logs/…` under `root`; the paths written."""
    written = []
    (root / "k8s").mkdir(parents=True, exist_ok=True)
    for stem, items in sorted(raw.objects.items()):
        if items:
            written.append(_write_list(root / "k8s" / f"{stem}.json", items, _kind_of(stem)))
    if raw.node_pods:
        written.append(_write_list(root / "k8s" / "node-pods.json", [redact_object(p) for p in raw.node_pods], ("v1", "Pod")))
    for source in raw.logs:
        dest = root / source.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with source.open() as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
        written.append(dest)
    return written


_KIND_OF = {"pods": ("v1", "Pod"), "events": ("v1", "Event"), "nodes": ("v1", "Node"), "services": ("v1", "Service"),
            "deployments": ("apps/v1", "Deployment"), "replicasets": ("apps/v1", "ReplicaSet"),
            "statefulsets": ("apps/v1", "StatefulSet"), "hpa": ("autoscaling/v2", "HorizontalPodAutoscaler"),
            "jobs": ("batch/v1", "Job"), "pvcs": ("v1", "PersistentVolumeClaim")}


def _kind_of(stem: str) -> tuple[str, str]:
    return _KIND_OF.get(stem, ("v1", "Unknown"))


def _write_list(path: Path, items: list[dict[str, Any]], kind: tuple[str, str]) -> Path:
    """A `kind: List` file with apiVersion/kind set on every item, as kubectl prints it."""
    full = [{"apiVersion": kind[0], "kind": kind[1], **item} for item in items]
    doc = {"apiVersion": "v1", "items": full, "kind": "List", "metadata": {"resourceVersion": ""}}
    path.write_text(json.dumps(doc, indent=4) + "\n")
    return path


def write_k8s_manifest(raw: K8sRaw, root: Path) -> None:
    import yaml

    from doctor import __version__

    doc = {"target": f"k8s:{raw.target}", "namespace": raw.namespace,
           "collected_at": format_time(raw.now or datetime.now(UTC)),
           "tool": f"mldoctor {__version__}", "collector_errors": [e.error for e in raw.errors], "notes": raw.notes}
    (root / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def merge_raws(raws: list[K8sRaw]) -> K8sRaw:
    """Several targets' raw objects as one bundle's worth (objects de-duplicated by uid)."""
    merged = K8sRaw(raws[0].target if len(raws) == 1 else f"{raws[0].namespace}/*" if raws else "*",
                    raws[0].namespace if raws else "")
    seen: set[str] = set()
    for raw in raws:
        for stem, items in raw.objects.items():
            fresh = [o for o in items if f"{stem}/{uid_of(o)}" not in seen]
            seen |= {f"{stem}/{uid_of(o)}" for o in fresh}
            merged.items(stem).extend(fresh)
        merged.logs += raw.logs
        merged.errors += [e for e in raw.errors if e not in merged.errors]
        merged.node_pods = merged.node_pods or raw.node_pods
        merged.now, merged.since = merged.now or raw.now, merged.since or raw.since
    return merged
