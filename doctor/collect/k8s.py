"""Live Kubernetes collector: a target (or a namespace) to raw objects, logs and Evidence, read-only.

Only get/list and pods/log are ever sent. One list call per resource kind (paginated), never one per
pod; logs only of containers that restarted or are not ready (plus one sample of a healthy target),
fetched concurrently with a small bound. A 403 becomes a CollectorError naming the refused verb and
what was not checked; an unreachable API server is an UnreachableError (exit 3).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from doctor.collect.k8s_api import GET_CALLS, Api, Refused, connect
from doctor.collect.k8s_bundle import (
    merge_raws,
    redact_all,
    redact_object,
    write_bundle,
    write_k8s_manifest,
)
from doctor.collect.k8s_logs import LogJob, fetch_logs, log_jobs, log_root
from doctor.collect.k8s_raw import K8sRaw, name_of, uid_of
from doctor.errors import InputError, UnreachableError
from doctor.evidence import CollectorError, Evidence

__all__ = ["KINDS", "Api", "K8sRaw", "Lists", "LogJob", "Refused", "TargetSpec", "collect_bundle", "collect_k8s",
           "collect_k8s_bundle", "collect_k8s_namespace", "collect_k8s_namespace_raw", "collect_k8s_raw", "connect",
           "fetch_logs", "log_jobs", "namespace_of", "parse_spec", "redact_object", "selector_string", "write_bundle"]

KINDS = {"deployment": "deployment", "deploy": "deployment", "deployments": "deployment",
         "statefulset": "statefulset", "sts": "statefulset", "statefulsets": "statefulset",
         "service": "service", "svc": "service", "services": "service", "pod": "pod", "po": "pod", "pods": "pod",
         "job": "job", "jobs": "job"}


@dataclass(frozen=True)
class TargetSpec:
    """`k8s:[NAMESPACE/]KIND/NAME` parsed; name `*` means every deployment of the namespace."""

    namespace: str | None
    kind: str
    name: str


def parse_spec(spec: str) -> TargetSpec:
    """The parts of a `k8s:` target; InputError when it is not one."""
    body = spec.removeprefix("k8s:")
    parts = body.split("/")
    if body in ("*", "") or parts[-1] == "*" and len(parts) <= 2:
        return TargetSpec(parts[0] if len(parts) == 2 else None, "deployment", "*")
    if len(parts) not in (2, 3) or not all(parts) or parts[-2].lower() not in KINDS:
        raise InputError(f"not a Kubernetes target: {spec!r} (expected k8s:[NAMESPACE/]KIND/NAME with KIND "
                         "deployment, service, pod or statefulset, or k8s:NAMESPACE/*)")
    return TargetSpec(parts[0] if len(parts) == 3 else None, KINDS[parts[-2].lower()], parts[-1])


# --- from a target to its objects ----------------------------------------------------------------


@dataclass
class Lists:
    """Cached list calls: each (kind, namespace, selectors) is asked once; refusals are kept for every target."""

    api: Api
    namespace: str | None
    errors: K8sRaw = field(default_factory=lambda: K8sRaw("", ""))
    cache: dict[tuple[str, str | None, str | None, str | None], list[dict[str, Any]]] = field(default_factory=dict)
    indexes: dict[tuple[str, Any, str | None], dict[Any, list[dict[str, Any]]]] = field(default_factory=dict)

    def get(self, plural: str, label: str | None = None, field_sel: str | None = None,
            namespace: str | None | bool = True) -> list[dict[str, Any]]:
        """The objects, or [] with a CollectorError when the call was refused or failed."""
        ns = self.namespace if namespace is True else (namespace or None)
        key = (plural, ns, label, field_sel)
        if key not in self.cache:
            try:
                self.cache[key] = self.api.list(plural, ns, label, field_sel)
            except Refused as err:
                if err.status == 0:
                    raise UnreachableError(f"the Kubernetes API server at {self.api.host} stopped answering: {err}") from err
                self.errors.refused(err, "list", plural, ns)
                self.cache[key] = []
        return self.cache[key]


    def index(self, plural: str, key: Callable[[dict[str, Any]], Any], field_sel: str | None = None) -> dict[Any, list[dict[str, Any]]]:
        """The objects of one list call grouped by `key` (built once per call and key), in server order."""
        cache_key = (plural, key, field_sel)
        if cache_key not in self.indexes:
            grouped: dict[Any, list[dict[str, Any]]] = {}
            for obj in self.get(plural, field_sel=field_sel):
                grouped.setdefault(key(obj), []).append(obj)
            self.indexes[cache_key] = grouped
        return self.indexes[cache_key]


def selector_string(selector: dict[str, Any] | None) -> str:
    """A LabelSelector object (`matchLabels`, `matchExpressions`) as a `labelSelector` query string."""
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, values = expr.get("key"), ",".join(expr.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": str(key),
                      "DoesNotExist": f"!{key}"}[expr.get("operator", "Exists")])
    return ",".join(terms)


def _owner_uid(obj: dict[str, Any]) -> str | None:
    """The uid of the controller that owns `obj`."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((str(r.get("uid")) for r in refs if r.get("controller")), None)


def _owned_by(obj: dict[str, Any], uids: set[str]) -> bool:
    return any(ref.get("uid") in uids for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def _get_target(api: Api, raw: K8sRaw, kind: str, name: str) -> dict[str, Any] | None:
    """The target object; None when reading it was refused (recorded); InputError (exit 2) when it does not exist."""
    try:
        return api.get(kind, raw.namespace, name)
    except Refused as err:
        if err.status == 404:
            raise InputError(f'{kind} "{name}" not found in namespace "{raw.namespace}" '
                             f'(check the name, -n/--namespace and --context; `kubectl get {kind} -n {raw.namespace}`)') from err
        if err.status == 0:
            raise UnreachableError(f"the Kubernetes API server at {api.host} stopped answering: {err}") from err
        raw.refused(err, "get", GET_CALLS[kind][2], raw.namespace)
        return None


def _resolve(api: Api, lists: Lists, raw: K8sRaw, kind: str, name: str) -> set[tuple[str, str]]:
    """Fill raw with the target's objects and pods; return the (kind, name) whose events matter."""
    obj = _get_target(api, raw, kind, name)
    if kind == "pod":
        raw.items("pods").extend([obj] if obj else [])
        return {("Pod", name)}
    if obj is None:  # the owner cannot be read: fall back to the pods named after it
        raw.notes.append(f"{kind} {name} could not be read; its pods were taken by name prefix '{name}-'")
        raw.items("pods").extend(p for p in lists.get("pods") if name_of(p).startswith(f"{name}-"))
        return {(kind.capitalize(), name)} | _pod_names(raw)
    stem = {"deployment": "deployments", "statefulset": "statefulsets", "service": "services", "job": "jobs"}[kind]
    raw.items(stem).append(obj)
    selector = selector_string(obj["spec"].get("selector")) if kind != "service" else \
        ",".join(f"{k}={v}" for k, v in sorted((obj["spec"].get("selector") or {}).items()))
    if not selector:
        raw.notes.append(f"{kind} {name} has no selector: no pods belong to it")
        return {(obj.get("kind") or kind.capitalize(), name)}
    return _pods_of(lists, raw, obj, kind, selector)


def _pods_of(lists: Lists, raw: K8sRaw, obj: dict[str, Any], kind: str, selector: str) -> set[tuple[str, str]]:
    pods = lists.get("pods", label=selector)
    names = {({"deployment": "Deployment", "statefulset": "StatefulSet", "job": "Job"}.get(kind, "Service"), name_of(obj))}
    if kind in ("statefulset", "job"):
        pods = [p for p in pods if _owned_by(p, {uid_of(obj)})]
    elif kind == "deployment":
        rsets = [r for r in lists.get("replicasets", label=selector) if _owned_by(r, {uid_of(obj)})]
        raw.items("replicasets").extend(rsets)
        pods = [p for p in pods if _owned_by(p, {uid_of(r) for r in rsets})] if rsets else pods
        names |= {("ReplicaSet", name_of(r)) for r in rsets}
    raw.items("pods").extend(pods)
    return names | _pod_names(raw)


def _pod_names(raw: K8sRaw) -> set[tuple[str, str]]:
    return {("Pod", name_of(p)) for p in raw.items("pods")}


def _claim_names(pods: list[dict[str, Any]]) -> set[str]:
    """The PersistentVolumeClaims the pods mount."""
    return {str((v.get("persistentVolumeClaim") or {}).get("claimName")) for p in pods
            for v in (p.get("spec") or {}).get("volumes") or [] if (v.get("persistentVolumeClaim") or {}).get("claimName")}


def _attach_pvcs(lists: Lists, raw: K8sRaw) -> set[tuple[str, str]]:
    """The claims the target's pods mount (one list call, only when they mount any); their (kind, name) for events."""
    claims = _claim_names(raw.items("pods"))
    if not claims:
        return set()
    raw.items("pvcs").extend(c for c in lists.get("persistentvolumeclaims") if name_of(c) in claims)
    return {("PersistentVolumeClaim", name) for name in claims}


def _attach_events_and_hpa(lists: Lists, raw: K8sRaw, names: set[tuple[str, str]], pod_only: str | None) -> None:
    claims = any(kind == "PersistentVolumeClaim" for kind, _ in names)  # their events are not the pod's
    field_sel = f"involvedObject.kind=Pod,involvedObject.name={pod_only}" if pod_only and not claims else None
    by_object = lists.index("events", _involved, field_sel)
    wanted = names | {("HorizontalPodAutoscaler", n) for k, n in names if k in ("Deployment", "StatefulSet")}
    raw.items("events").extend(e for key in sorted(wanted) for e in by_object.get(key, []))
    workloads = {(k, n) for k, n in names if k in ("Deployment", "StatefulSet")}
    if workloads:
        by_target = lists.index("horizontalpodautoscalers", _scale_target)
        raw.items("hpa").extend(h for key in sorted(workloads) for h in by_target.get(key, []))


def _involved(event: dict[str, Any]) -> tuple[str, str]:
    obj = event.get("involvedObject") or event.get("regarding") or {}
    return str(obj.get("kind")), str(obj.get("name"))


def _scale_target(hpa: dict[str, Any]) -> tuple[str, str]:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return str(ref.get("kind")), str(ref.get("name"))


def _unschedulable(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _attach_nodes(lists: Lists, raws: list[K8sRaw]) -> None:
    """Nodes (and what is bound to them) once, for the targets that have an unschedulable pod."""
    wanting = [r for r in raws if any(_unschedulable(p) for p in r.items("pods"))]
    if not wanting:
        return
    nodes = lists.get("nodes", namespace=None)
    bound = lists.get("pods", field_sel="spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed",
                      namespace=None) if nodes else []
    for raw in wanting:
        raw.items("nodes").extend(nodes)
        raw.node_pods = bound


# --- entry points --------------------------------------------------------------------------------


def _since(since: timedelta | datetime | None, server_now: datetime | None) -> tuple[int | None, datetime | None]:
    """`sinceSeconds` for log calls and the cut-off time: a duration counts back from the server's clock,
    a time is measured against ours (as kubectl's --since and --since-time)."""
    if since is None:
        return None, None
    if isinstance(since, timedelta):
        return max(1, int(since.total_seconds())), (server_now or datetime.now(UTC)) - since
    return max(1, int((datetime.now(UTC) - since).total_seconds())), since


def _open(context: str | None, kubeconfig: str | None) -> tuple[Api, str]:
    api, namespace = connect(context, kubeconfig)
    try:
        api.version()
    except Exception as err:
        raise UnreachableError(_unreachable(api.host, err)) from err
    return api, namespace


def _unreachable(host: str, err: Exception) -> str:
    """One line: what failed talking to the API server, and for a certificate the user can check, which one."""
    text = " ".join(str(err).replace("Reason: ", "").split()) or type(err).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (f"cannot reach the Kubernetes API server at {host}: its TLS certificate is not signed by the CA "
                f"mldoctor was given (the kubeconfig's certificate-authority, or in a pod the service account's "
                f"ca.crt): {text[:300]}")
    return f"cannot reach the Kubernetes API server at {host}: {type(err).__name__}: {text[:300]}"


def _finish(api: Api, lists: Lists, raws: list[K8sRaw], since: timedelta | datetime | None) -> list[K8sRaw]:
    since_seconds, start = _since(since, api.now)
    _attach_nodes(lists, raws)
    for raw in raws:
        raw.errors[:0] = [e for e in lists.errors.errors if e not in raw.errors]
        raw.since, raw.now = start, api.now
        redact_all(raw)
    fetch_logs(api, [j for raw in raws for j in log_jobs(raw)], since_seconds, log_root())
    return raws


def collect_k8s_raw(spec: str, since: timedelta | datetime | None = None, context: str | None = None,
                    namespace: str | None = None, kubeconfig: str | None = None) -> K8sRaw:
    """The raw objects and logs of one `k8s:[NAMESPACE/]KIND/NAME` target."""
    target = parse_spec(spec)
    if target.name == "*":
        raise InputError(f"{spec!r} names a whole namespace: use collect_k8s_namespace")
    api, default_ns = _open(context, kubeconfig)
    ns = target.namespace or namespace or default_ns
    raw = K8sRaw(f"{ns}/{target.kind}/{target.name}", ns)
    lists = Lists(api, ns)
    names = _resolve(api, lists, raw, target.kind, target.name) | _attach_pvcs(lists, raw)
    _attach_events_and_hpa(lists, raw, names, target.name if target.kind == "pod" else None)
    return _finish(api, lists, [raw], since)[0]


def collect_k8s(spec: str, since: timedelta | datetime | None = None, context: str | None = None,
                namespace: str | None = None, kubeconfig: str | None = None) -> Evidence:
    """Evidence for one `k8s:[NAMESPACE/]KIND/NAME` target, collected live."""
    return collect_k8s_raw(spec, since, context, namespace, kubeconfig).evidence()


def namespace_of(spec: str | None) -> str | None:
    """The namespace named by `k8s:NS/*`, `NS/*`, `NS` or `*` (None: the context's)."""
    body = (spec or "").removeprefix("k8s:").removesuffix("*").strip("/")
    if "/" in body:
        raise InputError(f"not a namespace target: {spec!r} (expected k8s:NAMESPACE/*)")
    return body or None


def collect_k8s_namespace_raw(spec: str | None, since: timedelta | datetime | None = None, context: str | None = None,
                              namespace: str | None = None, kubeconfig: str | None = None,
                              all_namespaces: bool = False) -> list[K8sRaw]:
    """One K8sRaw per deployment of a namespace (or of all namespaces), from one list call per kind."""
    api, default_ns = _open(context, kubeconfig)
    ns = None if all_namespaces else (namespace_of(spec) or namespace or default_ns)
    lists = Lists(api, ns)
    raws = []
    rsets, pods = lists.index("replicasets", _owner_uid), lists.index("pods", _owner_uid)
    for dep in lists.get("deployments"):
        dep_ns = str(dep["metadata"].get("namespace") or ns)
        raw = K8sRaw(f"{dep_ns}/deployment/{name_of(dep)}", dep_ns)
        raw.items("deployments").append(dep)
        owned = rsets.get(uid_of(dep), [])
        raw.items("replicasets").extend(owned)
        raw.items("pods").extend(p for r in owned for p in pods.get(uid_of(r), []))
        names = {("Deployment", name_of(dep))} | {("ReplicaSet", name_of(r)) for r in owned} | _pod_names(raw)
        names |= _attach_pvcs(lists, raw)
        _attach_events_and_hpa(lists, raw, names, None)
        raws.append(raw)
    return _finish(api, lists, raws, since)


def collect_k8s_namespace(spec: str | None, since: timedelta | datetime | None = None, context: str | None = None,
                          namespace: str | None = None, kubeconfig: str | None = None,
                          all_namespaces: bool = False) -> list[Evidence]:
    """Evidence for every deployment of `k8s:NAMESPACE/*` (or every namespace)."""
    return [r.evidence() for r in collect_k8s_namespace_raw(spec, since, context, namespace, kubeconfig, all_namespaces)]


# --- the bundle -----------------------------------------------------------------------------------


def collect_k8s_bundle(spec: str, root: Path, since: timedelta | datetime | None = None, context: str | None = None,
                       namespace: str | None = None, kubeconfig: str | None = None) -> K8sRaw:
    """Collect one target (or `NAMESPACE/*`) live and write it in the bundle layout under `root`."""
    body = spec.removeprefix("k8s:")
    raws = collect_k8s_namespace_raw(body, since, context, namespace, kubeconfig) if body.endswith("*") else \
        [collect_k8s_raw(body, since, context, namespace, kubeconfig)]
    merged = merge_raws(raws)
    write_bundle(merged, root)
    write_k8s_manifest(merged, root)
    return merged


def collect_bundle(spec: str, output: str | Path, since: timedelta | datetime | None = None, context: str | None = None,
                   namespace: str | None = None, kubeconfig: str | None = None) -> list[CollectorError]:
    """`mldoctor collect k8s:…`: the bundle as a .tar.gz at `output` (written whole or not at all)."""
    import tarfile

    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="mldoctor-k8s-bundle-") as tmp:
        merged = collect_k8s_bundle(spec, Path(tmp), since, context, namespace, kubeconfig)
        partial = output.with_name(output.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(tmp)))
        partial.replace(output)
    return merged.errors

