"""The Kubernetes API, read-only: client setup, timeouts, retries with back-off, pagination."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from doctor.convert import parse_http_date
from doctor.errors import UnreachableError

TIMEOUT = (5.0, 30.0)  # connect, read seconds, on every call
RETRIES = 4  # extra tries on 429/5xx/timeouts, with back-off
MAX_BACKOFF = 8.0
PAGE_LIMIT = 5000
_RETRYABLE = {429, 500, 502, 503, 504}
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
    "persistentvolumeclaims": ("CoreV1Api", "list_namespaced_persistent_volume_claim",
                               "list_persistent_volume_claim_for_all_namespaces"),
    "jobs": ("BatchV1Api", "list_namespaced_job", "list_job_for_all_namespaces"),
}
GET_CALLS = {"deployment": ("AppsV1Api", "read_namespaced_deployment", "deployments.apps"),
              "statefulset": ("AppsV1Api", "read_namespaced_stateful_set", "statefulsets.apps"),
              "service": ("CoreV1Api", "read_namespaced_service", "services"),
              "pod": ("CoreV1Api", "read_namespaced_pod", "pods"),
              "job": ("BatchV1Api", "read_namespaced_job", "jobs.batch")}


class Refused(Exception):
    """The API server answered with a status that ends this call (403, 404, or retries exhausted)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


class Api:
    """A thin read-only wrapper: paginated lists, gets and log streams, with timeouts and retries."""

    def __init__(self, api_client: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        from kubernetes import client

        self.apis = {n: getattr(client, n)(api_client) for n in ("CoreV1Api", "AppsV1Api", "AutoscalingV2Api",
                                                                           "BatchV1Api")}
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
        api, method, _ = GET_CALLS[kind]
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
                self.now = parse_http_date(header)
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


# Where a pod's service account is mounted (the client library reads its token and CA certificate from here too).
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def _incluster_namespace() -> str:
    path = SERVICE_ACCOUNT / "namespace"
    return path.read_text().strip() if path.exists() else "default"
