"""A read-only mock Kubernetes API server on loopback: discovery, list/get/watch, pods/log, faults, request log."""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field, replace
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.k8smock.logs import LogError, render_log
from tests.k8smock.selectors import SelectorError, field_matcher, label_matcher
from tests.k8smock.store import TYPES, ResourceType, Store

WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USER = "system:serviceaccount:ml-prod:mldoctor"


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    status: int = 0
    authorization: str = ""  # the Authorization header the client sent


@dataclass
class Fault:
    """An injected failure for requests whose path matches `path` (a regex, searched)."""

    path: str
    status: int | None = None  # 403, 429, 500, 503 ... answered with a real Status object
    retry_after: int | None = None
    delay: float = 0.0  # seconds to wait before answering
    drop_after: int | None = None  # send this many body bytes, then cut the connection
    times: int | None = None  # how many matching requests it applies to; None: all
    query: dict[str, str] = field(default_factory=dict)  # extra query parameters that must match

    def applies(self, path: str, query: dict[str, str]) -> bool:
        """True when this fault takes the request (and consumes one use)."""
        if self.times == 0 or not re.search(self.path, path):
            return False
        if any(query.get(k) != v for k, v in self.query.items()):
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass(frozen=True)
class Route:
    """What a resource path names."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None = None

    @property
    def verb(self) -> str:
        """The RBAC verb the request needs."""
        return "get" if self.name else "list"


class Answer(Exception):
    """An early answer: a status code and a Status object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.details, self.headers = code, reason, details or {}, headers or {}

    def body(self) -> dict[str, Any]:
        """The `metav1.Status` the real API server sends."""
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": str(self), "reason": self.reason, "code": self.code}
        if self.details:
            status["details"] = self.details
        return status


class MockApiServer:
    """Serves a Store over HTTP on 127.0.0.1; `requests` records every call, `faults` injects failures."""

    def __init__(self, store: Store, port: int = 0, tls: tuple[Path, Path] | None = None) -> None:
        self.store = store
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:  # (certificate, key): HTTPS, as a real API server (and in-cluster config) speaks
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="k8smock", daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> MockApiServer:
        """Start serving in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_fault(self, path: str, **kw: Any) -> Fault:
        """Inject a failure for matching paths (see Fault)."""
        fault = Fault(path, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str, query: dict[str, str]) -> Fault | None:
        """The first fault that applies to this request, if any."""
        with self.lock:
            return next((f for f in self.faults if f.applies(path, query)), None)

    def record(self, req: Request) -> int:
        """Append to the request log (on arrival, so a slow answer is counted at once); its index."""
        with self.lock:
            self.requests.append(req)
            return len(self.requests) - 1

    def set_status(self, index: int, status: int) -> None:
        """Fill in the status a logged request was answered with."""
        with self.lock:
            self.requests[index] = replace(self.requests[index], status=status)

    def writes(self) -> list[Request]:
        """Every request with a write verb."""
        return [r for r in self.requests if r.method in WRITE_VERBS]

    def count(self, path_regex: str = "") -> int:
        """How many requests had a path matching `path_regex`."""
        return sum(1 for r in self.requests if re.search(path_regex, r.path))

    def reset_log(self) -> None:
        """Forget recorded requests."""
        with self.lock:
            self.requests.clear()

    # --- answers ---------------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """Status code, body (dict, or bytes for logs) and headers for one request."""
        if method != "GET":
            raise Answer(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource ({method} is refused by this read-only mock)")
        static = _discovery(path, self)
        if static is not None:
            return 200, static, {}
        route = parse_route(path)
        if route.subresource == "log":
            return 200, self._log(route, query), {"Content-Type": "text/plain"}
        if query.get("watch") in ("true", "1"):
            return 200, self._watch(route, query), {"Content-Type": "application/json"}
        if route.name:
            return 200, self._get(route), {}
        return 200, self._list(route, query), {}

    def _matching(self, route: Route, query: dict[str, str]) -> list[dict[str, Any]]:
        try:
            by_label = label_matcher(query.get("labelSelector"))
            by_field = field_matcher(query.get("fieldSelector"), route.rtype.fields)
        except SelectorError as err:
            raise Answer(400, "BadRequest", str(err)) from err
        return [o for o in self.store.objects[route.rtype.plural]
                if (route.namespace is None or (o.get("metadata") or {}).get("namespace") == route.namespace)
                and by_label(o) and by_field(o)]

    def _list(self, route: Route, query: dict[str, str]) -> dict[str, Any]:
        items = self._matching(route, query) if route.rtype.plural != "namespaces" else self._namespace_objs()
        start = _decode_continue(query.get("continue"))
        limit = int(query.get("limit") or 0)
        page = items[start:start + limit] if limit > 0 else items[start:]
        meta: dict[str, Any] = {"resourceVersion": str(self.store.resource_version)}
        rest = len(items) - start - len(page)
        if limit > 0 and rest > 0:
            meta["continue"] = _encode_continue(start + len(page), self.store.resource_version)
            meta["remainingItemCount"] = rest
        stripped = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page]
        return {"kind": f"{route.rtype.kind}List", "apiVersion": route.rtype.group_version,
                "metadata": meta, "items": stripped}

    def _namespace_objs(self) -> list[dict[str, Any]]:
        return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}, "spec": {"finalizers": ["kubernetes"]},
                 "status": {"phase": "Active"}} for n in self.store.namespaces()]

    def _get(self, route: Route) -> dict[str, Any]:
        for obj in self._matching(route, {}):
            if (obj.get("metadata") or {}).get("name") == route.name:
                return obj
        group = f".{route.rtype.group}" if route.rtype.group else ""
        raise Answer(404, "NotFound", f'{route.rtype.plural}{group} "{route.name}" not found',
                     {"name": route.name, "group": route.rtype.group, "kind": route.rtype.plural})

    def _watch(self, route: Route, query: dict[str, str]) -> bytes:
        lines = [json.dumps({"type": "ADDED", "object": o}) for o in self._matching(route, query)]
        return ("\n".join(lines) + "\n").encode() if lines else b""

    def _log(self, route: Route, query: dict[str, str]) -> bytes:
        pod = self.store.pod(route.namespace or "", route.name or "")
        if pod is None:
            raise Answer(404, "NotFound", f'pods "{route.name}" not found', {"name": route.name, "kind": "pods"})
        try:
            return render_log(self.store, pod, query)
        except LogError as err:
            raise Answer(400, "BadRequest", str(err)) from err


def parse_route(path: str) -> Route:
    """The resource a path names; Answer(404) when it names none."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise Answer(404, "NotFound", "the server could not find the requested resource")
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    rtype = TYPES.get(rest[0]) if rest else None
    if rtype is None or (rtype.group, rtype.version) != (group, version) or len(rest) > 3:
        raise Answer(404, "NotFound", "the server could not find the requested resource")
    if namespace is None and len(rest) > 1 and rtype.namespaced:
        raise Answer(404, "NotFound", "the server could not find the requested resource")
    sub = rest[2] if len(rest) == 3 else None
    if sub is not None and (rtype.plural, sub) != ("pods", "log"):
        raise Answer(404, "NotFound", "the server could not find the requested resource")
    return Route(rtype, namespace, rest[1] if len(rest) > 1 else None, sub)


def forbidden(route: Route | None, path: str) -> Answer:
    """The 403 a real server sends when RBAC refuses the request."""
    if route is None:
        return Answer(403, "Forbidden", f'forbidden: User "{USER}" cannot get path "{path}"')
    resource = route.rtype.plural + (f"/{route.subresource}" if route.subresource else "")
    what = f'{route.rtype.plural}{"." + route.rtype.group if route.rtype.group else ""}'
    subject = f'{what} "{route.name}"' if route.name else what
    scope = f' in the namespace "{route.namespace}"' if route.namespace else " at the cluster scope"
    message = (f'{subject} is forbidden: User "{USER}" cannot {route.verb} resource "{resource}" '
               f'in API group "{route.rtype.group}"{scope}')
    details = {"kind": route.rtype.plural, **({"name": route.name} if route.name else {}),
               **({"group": route.rtype.group} if route.rtype.group else {})}
    return Answer(403, "Forbidden", message, details)


def fault_answer(fault: Fault, path: str) -> Answer:
    """The Status answer for an injected status fault."""
    code = fault.status or 500
    if code == 403:
        try:
            return forbidden(parse_route(path), path)
        except Answer:
            return forbidden(None, path)
    if code == 429:
        secs = fault.retry_after or 1
        return Answer(429, "TooManyRequests", "Too many requests, please try again later.",
                      {"retryAfterSeconds": secs}, {"Retry-After": str(secs)})
    if code == 503:
        return Answer(503, "ServiceUnavailable", "the server is currently unable to handle the request",
                      headers={"Retry-After": str(fault.retry_after)} if fault.retry_after else {})
    return Answer(code, "InternalError", "Internal error occurred: etcdserver: request timed out",
                  {"causes": [{"message": "etcdserver: request timed out"}]})


def _encode_continue(offset: int, rv: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": offset}).encode()).decode()


def _decode_continue(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
    except (ValueError, KeyError, TypeError) as err:
        raise Answer(400, "BadRequest", f"continue key is not valid: {err}") from err


def _discovery(path: str, server: MockApiServer) -> dict[str, Any] | None:
    from tests.k8smock.discovery import discovery_document

    return discovery_document(path.rstrip("/") or "/", server.url)


def _handler_for(server: MockApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        mock = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    """One connection: answers GETs from the mock, refuses everything else."""

    protocol_version = "HTTP/1.1"
    mock: MockApiServer

    def setup(self) -> None:
        """No Nagle: headers and body go out at once, as from a real apiserver (no 40 ms delayed-ACK stalls)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header from the scenario's clock, which the collector takes as "now"."""
        return format_datetime(self.mock.store.now, usegmt=True)

    def do_GET(self) -> None:
        """Answer a read."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Refuse and record a write."""
        self._serve("POST")

    def do_PUT(self) -> None:
        """Refuse and record a write."""
        self._serve("PUT")

    def do_PATCH(self) -> None:
        """Refuse and record a write."""
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        """Refuse and record a write."""
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self._drain_body()
        fault = self.mock.take_fault(url.path, query) if method == "GET" else None
        index = self.mock.record(Request(method, url.path, query, authorization=self.headers.get("Authorization", "")))
        try:
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                raise fault_answer(fault, url.path)
            code, body, headers = self.mock.answer(method, url.path, query)
        except Answer as ans:
            code, body, headers = ans.code, ans.body(), ans.headers
        self.mock.set_status(index, code)
        self._send(code, body, headers, fault.drop_after if fault else None)

    def _drain_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _send(self, code: int, body: Any, headers: dict[str, str], drop_after: int | None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Audit-Id", f"mock-{len(self.mock.requests)}")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data if drop_after is None else data[:drop_after])
            self.wfile.flush()
            if drop_after is not None:
                self._cut()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _cut(self) -> None:
        """Close the socket mid-body, as a crashed apiserver or a dropped proxy would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
