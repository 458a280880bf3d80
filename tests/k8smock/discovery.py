"""Discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/G/V`) enough for kubectl and the client."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.k8smock.store import TYPES, ResourceType

_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_IN_ALL = {"pods", "services", "deployments", "replicasets", "statefulsets", "horizontalpodautoscalers", "jobs"}

VERSION = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.6", "gitCommit": "00f20d443ba0cd2b1e8b0a1e0c4e7f4a1e6b8f5d",
    "gitTreeState": "clean", "buildDate": "2024-10-22T20:26:11Z", "goVersion": "go1.22.8",
    "compiler": "gc", "platform": "linux/amd64",
}


def discovery_document(path: str, url: str) -> dict[str, Any] | None:
    """The discovery answer for `path`, or None when it is not a discovery path."""
    groups = _groups()
    if path == "/version":
        return VERSION
    if path == "/api":
        address = urlsplit(url).netloc
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g, v) for g, v in groups.items()]}
    parts = path.strip("/").split("/")
    if parts == ["api", "v1"]:
        return _resource_list("", "v1")
    if len(parts) == 2 and parts[0] == "apis" and parts[1] in groups:
        return {"kind": "APIGroup", "apiVersion": "v1", **_group(parts[1], groups[parts[1]])}
    if len(parts) == 3 and parts[0] == "apis" and groups.get(parts[1]) == parts[2]:
        return _resource_list(parts[1], parts[2])
    return None


def _groups() -> dict[str, str]:
    return {t.group: t.version for t in TYPES.values() if t.group}


def _group(name: str, version: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def _resource_list(group: str, version: str) -> dict[str, Any]:
    resources = []
    for rtype in TYPES.values():
        if (rtype.group, rtype.version) == (group, version):
            resources.append(_resource(rtype))
            if rtype.plural == "pods":
                resources.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                                  "verbs": ["get"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _resource(rtype: ResourceType) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": rtype.plural, "singularName": rtype.kind.lower(), "namespaced": rtype.namespaced,
                           "kind": rtype.kind, "verbs": _VERBS}
    if rtype.short_names:
        doc["shortNames"] = list(rtype.short_names)
    if rtype.plural in _IN_ALL:
        doc["categories"] = ["all"]
    return doc
