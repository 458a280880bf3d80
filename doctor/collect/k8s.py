"""Live Kubernetes collector: a target (or a namespace) to raw objects, logs and Evidence, read-only.

Only get/list and pods/log are ever sent. One list call per resource kind (paginated), never one per
pod; logs only of containers that restarted or are not ready (plus one sample of a healthy target),
fetched concurrently with a small bound. A 403 becomes a CollectorError naming the refused verb and
what was not checked; an unreachable API server is an UnreachableError (exit 3).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from doctor.convert import k8s_event, k8s_node, k8s_pod_states
from doctor.errors import InputError, UnreachableError
from doctor.evidence import CollectorError, Evidence, LogSource, Target

TIMEOUT = (5.0, 30.0)  # connect, read seconds, on every call
RETRIES = 4  # extra tries on 429/5xx/timeouts, with back-off
MAX_BACKOFF = 8.0
PAGE_LIMIT = 5000
LOG_TAIL_LINES = 5000
LOG_WORKERS = 4
HEALTHY_LOG_SAMPLES = 1
KINDS = {"deployment": "deployment", "deploy": "deployment", "deployments": "deployment",
         "statefulset": "statefulset", "sts": "statefulset", "statefulsets": "statefulset",
         "service": "service", "svc": "service", "services": "service", "pod": "pod", "po": "pod", "pods": "pod"}
_RETRYABLE = {429, 500, 502, 503, 504}
_CONFIG_STEMS = ("deployments", "replicasets", "statefulsets", "services", "hpa")  # as doctor.bundle reads them
_LIST_CALLS = {  # plural -> (api class, namespaced list, all-namespaces list)
    "pods": ("CoreV1Api", "list_namespaced_pod", "list_pod_for_all_namespaces"),
    "events": ("CoreV1Api", "list_namespaced_event", "list_event_for_all_namespaces"),
    "services": ("CoreV1Api", "list_namespaced_service", "list_service_for_all_namespaces"),
    "nodes": ("CoreV1Api", "", "list_node"),
    "deployments": ("AppsV1Api", "list_namespaced_deployment", "list_deployment_for_all_namespaces"),
    "replicasets": ("AppsV1Api", "list_namespaced_replica_set", "list_replica_set_for_all_namespaces"),
    "statefulsets": ("AppsV1Api", "list_namespaced_stateful_set", "list_stateful_set_for_all_namespaces"),
    "horizontalpodautoscalers": ("AutoscalingV2Api", "list_namespaced_horizontal_pod_autoscaler",
                                 "list_horizontal_pod_autoscaler_for_all_namespaces"),
}
_GET_CALLS = {"deployment": ("AppsV1Api", "read_namespaced_deployment", "deployments.apps"),
              "statefulset": ("AppsV1Api", "read_namespaced_stateful_set", "statefulsets.apps"),
              "service": ("CoreV1Api", "read_namespaced_service", "services"),
              "pod": ("CoreV1Api", "read_namespaced_pod", "pods")}
_NOT_CHECKED = {"pods": "pod states, restarts and logs", "events": "scheduling, probe, pull and back-off events",
                "nodes": "node capacity and free GPU/CPU/memory", "replicasets": "which pods belong to the deployment",
                "horizontalpodautoscalers": "the autoscaler (min/max/current replicas)",
                "deployments": "the deployments of the namespace", "services": "the service selector",
                "statefulsets": "the statefulset", "pods/log": "container logs"}


class Refused(Exception):
    """The API server answered with a status that ends this call (403, 404, or retries exhausted)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


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


# --- the API, read-only ------------------------------------------------------------------------


class Api:
    """A thin read-only wrapper: paginated lists, gets and log streams, with timeouts and retries."""

    def __init__(self, api_client: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        from kubernetes import client

        self.apis = {n: getattr(client, n)(api_client) for n in ("CoreV1Api", "AppsV1Api", "AutoscalingV2Api")}
        self.host = str(api_client.configuration.host)
        self.sleep = sleep
        self.now: datetime | None = None

    def call(self, api: str, method: str, *args: Any, **kw: Any) -> Any:
        """One call, retried with back-off on 429/5xx/timeouts; Refused when it cannot succeed."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        for attempt in range(RETRIES + 1):
            try:
                resp = getattr(self.apis[api], method)(*args, _preload_content=False, _request_timeout=TIMEOUT, **kw)
                self._note_date(resp.headers.get("Date"))
                return resp
            except ApiException as err:
                if err.status not in _RETRYABLE or attempt == RETRIES:
                    raise Refused(int(err.status or 0), str(err.reason), _status_message(err)) from err
                self.sleep(_backoff(attempt, (err.headers or {}).get("Retry-After")))
            except HTTPError as err:
                if attempt == RETRIES or "refused" in str(err).lower():
                    raise Refused(0, "Unreachable", f"{type(err).__name__}: {err}") from err
                self.sleep(_backoff(attempt, None))
        raise AssertionError("unreachable")

    def list(self, plural: str, namespace: str | None, label: str | None = None,
             field_sel: str | None = None) -> list[dict[str, Any]]:
        """Every object of a kind (namespace None: all namespaces), following `continue`."""
        api, per_ns, all_ns = _LIST_CALLS[plural]
        method, args = (per_ns, (namespace,)) if namespace and per_ns else (all_ns, ())
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kw = {k: v for k, v in (("label_selector", label), ("field_selector", field_sel), ("_continue", token)) if v}
            page = json.loads(self.call(api, method, *args, limit=PAGE_LIMIT, **kw).data)
            api_version, kind = page.get("apiVersion", "v1"), str(page.get("kind", "List")).removesuffix("List")
            items += [{"apiVersion": api_version, "kind": kind, **item} for item in page.get("items") or []]
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """One object of a target kind."""
        api, method, _ = _GET_CALLS[kind]
        return dict(json.loads(self.call(api, method, name, namespace).data))

    def version(self) -> dict[str, Any]:
        """`/version`: the cheap first call that tells whether the server answers at all."""
        from kubernetes import client

        resp: Any = client.VersionApi(self.apis["CoreV1Api"].api_client).get_code(
            _preload_content=False, _request_timeout=TIMEOUT)
        self._note_date(resp.headers.get("Date"))
        return dict(json.loads(resp.data))

    def _note_date(self, header: str | None) -> None:
        if header and self.now is None:
            try:
                self.now = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass


def _status_message(err: Any) -> str:
    try:
        return str(json.loads(err.body)["message"])
    except (TypeError, ValueError, KeyError):
        return f"{err.status} {err.reason}"


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before try `attempt + 1`: the server's Retry-After, else exponential."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_BACKOFF)
    return min(0.25 * 2.0 ** attempt, MAX_BACKOFF)


def connect(context: str | None = None, kubeconfig: str | None = None) -> tuple[Api, str]:
    """An Api for the kubeconfig context (or in-cluster config) and its default namespace."""
    from kubernetes import client, config

    cfg = client.Configuration()
    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube" / "config")
    try:
        if kubeconfig or Path(path).exists() or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_kube_config(config_file=path, context=context, client_configuration=cfg)  # type: ignore[no-untyped-call]
            namespace = _context_namespace(path, context)
        else:
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            namespace = _incluster_namespace()
    except (config.ConfigException, OSError) as err:
        raise UnreachableError(f"no usable Kubernetes configuration ({path}, in-cluster): {err}") from err
    cfg.retries = False
    return Api(client.ApiClient(cfg)), namespace


def _context_namespace(path: str, context: str | None) -> str:
    from kubernetes import config

    contexts, active = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")


def _incluster_namespace() -> str:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.exists() else "default"


# --- what was collected ------------------------------------------------------------------------


@dataclass
class K8sRaw:
    """The raw objects and log files collected for one target: what the bundle holds, what Evidence is built from."""

    target: str
    namespace: str
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # bundle file stem -> items
    logs: list[LogSource] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)
    node_pods: list[dict[str, Any]] = field(default_factory=list)  # pods bound to the nodes, for free capacity
    since: datetime | None = None
    now: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def items(self, stem: str) -> list[dict[str, Any]]:
        """The objects bound for `k8s/STEM.json`."""
        return self.objects.setdefault(stem, [])

    def refused(self, err: Refused, verb: str, resource: str, namespace: str | None) -> None:
        """Record a call that failed, saying what was refused and what is therefore not checked."""
        where = f'in namespace "{namespace}"' if namespace else "at cluster scope"
        head = f"{verb} {resource} {where} was refused (403 Forbidden)" if err.status == 403 else \
            f"{verb} {resource} {where} failed ({err.status or err.reason}): {err}"
        text = f"{head}; not checked: {_NOT_CHECKED.get(resource, resource)}"
        if err.status == 403:
            text += f". Server said: {err}"
        if all(e.error != text for e in self.errors):
            self.errors.append(CollectorError("k8s", text))

    def evidence(self) -> Evidence:
        """The normalised Evidence, through the same converters the bundle reader uses."""
        from doctor.config import from_k8s_object

        pods = self.items("pods")
        return Evidence(
            target=Target("k8s", self.target),
            logs=list(self.logs),
            events=[k8s_event(e, "k8s/events.json") for e in self.items("events")],
            states=[s for p in pods for s in k8s_pod_states(p, "k8s/pods.json")],
            nodes=[k8s_node(n, self.node_pods, "k8s/nodes.json") for n in self.items("nodes")],
            configs=[f for stem in _CONFIG_STEMS for o in self.items(stem)
                     for f in from_k8s_object(o, f"k8s/{stem}.json")],
            collector_errors=list(self.errors),
            since=self.since,
            now=self.now,
            notes=list(self.notes),
        )


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


def _uid(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid"))


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name"))


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
        raw.refused(err, "get", _GET_CALLS[kind][2], raw.namespace)
        return None


def _resolve(api: Api, lists: Lists, raw: K8sRaw, kind: str, name: str) -> set[tuple[str, str]]:
    """Fill raw with the target's objects and pods; return the (kind, name) whose events matter."""
    obj = _get_target(api, raw, kind, name)
    if kind == "pod":
        raw.items("pods").extend([obj] if obj else [])
        return {("Pod", name)}
    if obj is None:  # the owner cannot be read: fall back to the pods named after it
        raw.notes.append(f"{kind} {name} could not be read; its pods were taken by name prefix '{name}-'")
        raw.items("pods").extend(p for p in lists.get("pods") if _name(p).startswith(f"{name}-"))
        return {(kind.capitalize(), name)} | _pod_names(raw)
    stem = {"deployment": "deployments", "statefulset": "statefulsets", "service": "services"}[kind]
    raw.items(stem).append(obj)
    selector = selector_string(obj["spec"].get("selector")) if kind != "service" else \
        ",".join(f"{k}={v}" for k, v in sorted((obj["spec"].get("selector") or {}).items()))
    if not selector:
        raw.notes.append(f"{kind} {name} has no selector: no pods belong to it")
        return {(obj.get("kind") or kind.capitalize(), name)}
    return _pods_of(lists, raw, obj, kind, selector)


def _pods_of(lists: Lists, raw: K8sRaw, obj: dict[str, Any], kind: str, selector: str) -> set[tuple[str, str]]:
    pods = lists.get("pods", label=selector)
    names = {({"deployment": "Deployment", "statefulset": "StatefulSet"}.get(kind, "Service"), _name(obj))}
    if kind == "statefulset":
        pods = [p for p in pods if _owned_by(p, {_uid(obj)})]
    elif kind == "deployment":
        rsets = [r for r in lists.get("replicasets", label=selector) if _owned_by(r, {_uid(obj)})]
        raw.items("replicasets").extend(rsets)
        pods = [p for p in pods if _owned_by(p, {_uid(r) for r in rsets})] if rsets else pods
        names |= {("ReplicaSet", _name(r)) for r in rsets}
    raw.items("pods").extend(pods)
    return names | _pod_names(raw)


def _pod_names(raw: K8sRaw) -> set[tuple[str, str]]:
    return {("Pod", _name(p)) for p in raw.items("pods")}


def _attach_events_and_hpa(lists: Lists, raw: K8sRaw, names: set[tuple[str, str]], pod_only: str | None) -> None:
    field_sel = f"involvedObject.kind=Pod,involvedObject.name={pod_only}" if pod_only else None
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


# --- logs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogJob:
    """One log to fetch."""

    raw: K8sRaw
    namespace: str
    pod: str
    container: str
    previous: bool

    @property
    def name(self) -> str:
        """The bundle path of this log."""
        return f"k8s/logs/{self.pod}/{self.container}{'.previous' if self.previous else ''}.log"


def log_jobs(raw: K8sRaw) -> list[LogJob]:
    """Current and previous logs of containers that restarted or are not ready; else one healthy sample."""
    jobs: list[LogJob] = []
    for pod in raw.items("pods"):
        status = pod.get("status") or {}
        for cs in status.get("initContainerStatuses") or []:
            if cs.get("restartCount") or _failed_init(cs):
                jobs += _container_jobs(raw, pod, cs)
        for cs in status.get("containerStatuses") or []:
            if cs.get("restartCount") or not cs.get("ready"):
                jobs += _container_jobs(raw, pod, cs)
    if jobs:
        return jobs
    healthy = [p for p in raw.items("pods") if (p.get("status") or {}).get("containerStatuses")
               and all(cs.get("ready") for cs in p["status"]["containerStatuses"])]
    return [LogJob(raw, raw.namespace, _name(p), str(p["status"]["containerStatuses"][0]["name"]), False)
            for p in healthy[:HEALTHY_LOG_SAMPLES]]


def _failed_init(cs: dict[str, Any]) -> bool:
    state = cs.get("state") or {}
    return "waiting" in state or ("terminated" in state and state["terminated"].get("exitCode") != 0)


def _container_jobs(raw: K8sRaw, pod: dict[str, Any], cs: dict[str, Any]) -> list[LogJob]:
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    name, ns = _name(pod), str((pod.get("metadata") or {}).get("namespace") or raw.namespace)
    jobs = []
    if "running" in state or "terminated" in state or "terminated" in last:
        jobs.append(LogJob(raw, ns, name, str(cs.get("name")), False))
    if "terminated" in last:
        jobs.append(LogJob(raw, ns, name, str(cs.get("name")), True))
    return jobs


def fetch_logs(api: Api, jobs: list[LogJob], since_seconds: int | None, root: Path) -> None:
    """Fetch every log concurrently (at most LOG_WORKERS at once) into files under `root`."""
    with ThreadPoolExecutor(max_workers=LOG_WORKERS) as pool:
        sources = list(pool.map(lambda job: _fetch_log(api, job, since_seconds, root), jobs))
    for job, source in zip(jobs, sources):
        if source is not None:
            job.raw.logs.append(source)


def _fetch_log(api: Api, job: LogJob, since_seconds: int | None, root: Path) -> LogSource | None:
    from urllib3.exceptions import HTTPError

    kw: dict[str, Any] = {"container": job.container, "timestamps": True, "tail_lines": LOG_TAIL_LINES}
    kw.update({"previous": True} if job.previous else {})
    kw.update({"since_seconds": since_seconds} if since_seconds else {})
    try:
        resp = api.call("CoreV1Api", "read_namespaced_pod_log", job.pod, job.namespace, **kw)
    except Refused as err:
        if err.status == 400:  # not started yet / no previous container: the kubelet's word, not an error
            job.raw.notes.append(f"no log for {job.pod}/{job.container}: {err}")
        else:
            job.raw.refused(err, "get", "pods/log", job.namespace)
        return None
    path = root / job.raw.namespace / job.name
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with open(path, "wb") as out:
            while chunk := resp.read1(1 << 16):  # read1: what has arrived, so a cut loses nothing already read
                written += out.write(chunk)
    except (HTTPError, OSError) as err:
        job.raw.errors.append(CollectorError("k8s", f"the log {job.name} was cut off after {written} bytes "
                                                    f"({type(err).__name__}); the part read is kept"))
    finally:
        resp.release_conn()
    _redact_file(path)
    return LogSource.from_path(job.name, f"{job.pod}/{job.container}", path, previous=job.previous)


def _redact_file(path: Path) -> None:
    """Mask connection-string keys, SAS signatures and tokens in a downloaded log (bounded by the tail)."""
    from doctor.redact import redact_bytes

    data = path.read_bytes()
    clean = redact_bytes(data)
    if clean != data:
        path.write_bytes(clean)


def _log_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mldoctor-k8s-"))
    atexit.register(shutil.rmtree, root, True)
    return root


# --- redaction ----------------------------------------------------------------------------------


def redact_object(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` (changed in place: freshly parsed, never shared) with secret env values masked, no managedFields or last-applied."""
    from doctor.redact import MASK, is_secret_name, redact_strings, redact_text

    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    spec = obj.get("spec") or {}
    pod_spec = ((spec.get("template") or {}).get("spec")) or spec
    for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if "value" in env:
                env["value"] = MASK if is_secret_name(str(env.get("name"))) and env["value"] else redact_text(str(env["value"]))
    return redact_strings(obj)  # type: ignore[no-any-return]  # args, annotations, event messages


def _redact_all(raw: K8sRaw) -> None:
    for stem, items in raw.objects.items():
        raw.objects[stem] = [redact_object(o) for o in items if o.get("kind") != "Secret"]


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
        raise UnreachableError(f"cannot reach the Kubernetes API server at {api.host}: {type(err).__name__}: {err}") from err
    return api, namespace


def _finish(api: Api, lists: Lists, raws: list[K8sRaw], since: timedelta | datetime | None) -> list[K8sRaw]:
    since_seconds, start = _since(since, api.now)
    _attach_nodes(lists, raws)
    for raw in raws:
        raw.errors[:0] = [e for e in lists.errors.errors if e not in raw.errors]
        raw.since, raw.now = start, api.now
        _redact_all(raw)
    fetch_logs(api, [j for raw in raws for j in log_jobs(raw)], since_seconds, _log_root())
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
    names = _resolve(api, lists, raw, target.kind, target.name)
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
        raw = K8sRaw(f"{dep_ns}/deployment/{_name(dep)}", dep_ns)
        raw.items("deployments").append(dep)
        owned = rsets.get(_uid(dep), [])
        raw.items("replicasets").extend(owned)
        raw.items("pods").extend(p for r in owned for p in pods.get(_uid(r), []))
        names = {("Deployment", _name(dep))} | {("ReplicaSet", _name(r)) for r in owned} | _pod_names(raw)
        _attach_events_and_hpa(lists, raw, names, None)
        raws.append(raw)
    return _finish(api, lists, raws, since)


def collect_k8s_namespace(spec: str | None, since: timedelta | datetime | None = None, context: str | None = None,
                          namespace: str | None = None, kubeconfig: str | None = None,
                          all_namespaces: bool = False) -> list[Evidence]:
    """Evidence for every deployment of `k8s:NAMESPACE/*` (or every namespace)."""
    return [r.evidence() for r in collect_k8s_namespace_raw(spec, since, context, namespace, kubeconfig, all_namespaces)]


# --- the bundle -----------------------------------------------------------------------------------


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
            "statefulsets": ("apps/v1", "StatefulSet"), "hpa": ("autoscaling/v2", "HorizontalPodAutoscaler")}


def _kind_of(stem: str) -> tuple[str, str]:
    return _KIND_OF.get(stem, ("v1", "Unknown"))


def _write_list(path: Path, items: list[dict[str, Any]], kind: tuple[str, str]) -> Path:
    """A `kind: List` file with apiVersion/kind set on every item, as kubectl prints it."""
    full = [{"apiVersion": kind[0], "kind": kind[1], **item} for item in items]
    doc = {"apiVersion": "v1", "items": full, "kind": "List", "metadata": {"resourceVersion": ""}}
    path.write_text(json.dumps(doc, indent=4) + "\n")
    return path


def collect_k8s_bundle(spec: str, root: Path, since: timedelta | datetime | None = None, context: str | None = None,
                       namespace: str | None = None, kubeconfig: str | None = None) -> K8sRaw:
    """Collect one target (or `NAMESPACE/*`) live and write it in the bundle layout under `root`."""
    body = spec.removeprefix("k8s:")
    raws = collect_k8s_namespace_raw(body, since, context, namespace, kubeconfig) if body.endswith("*") else \
        [collect_k8s_raw(body, since, context, namespace, kubeconfig)]
    merged = _merge(raws)
    write_bundle(merged, root)
    _write_manifest(merged, root)
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


def _write_manifest(raw: K8sRaw, root: Path) -> None:
    import yaml

    from doctor import __version__

    doc = {"target": f"k8s:{raw.target}", "namespace": raw.namespace,
           "collected_at": (raw.now or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
           "tool": f"mldoctor {__version__}", "collector_errors": [e.error for e in raw.errors], "notes": raw.notes}
    (root / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _merge(raws: list[K8sRaw]) -> K8sRaw:
    """Several targets' raw objects as one bundle's worth (objects de-duplicated by uid)."""
    merged = K8sRaw(raws[0].target if len(raws) == 1 else f"{raws[0].namespace}/*" if raws else "*",
                    raws[0].namespace if raws else "")
    seen: set[str] = set()
    for raw in raws:
        for stem, items in raw.objects.items():
            fresh = [o for o in items if f"{stem}/{_uid(o)}" not in seen]
            seen |= {f"{stem}/{_uid(o)}" for o in fresh}
            merged.items(stem).extend(fresh)
        merged.logs += raw.logs
        merged.errors += [e for e in raw.errors if e not in merged.errors]
        merged.node_pods = merged.node_pods or raw.node_pods
        merged.now, merged.since = merged.now or raw.now, merged.since or raw.since
    return merged
