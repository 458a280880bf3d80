"""Guarantees that hold by construction, checked on the source: no eval/exec, YAML only through the safe loaders,
no write call to Docker or Kubernetes anywhere in the package (the live tests record the calls too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "doctor"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "shim" not in p.parts)
WRITE_CALLS = {"exec_run", "exec_create", "exec_start", "put_archive", "kill", "restart", "pause", "unpause",
               "remove_container", "create_container", "start", "stop", "prune", "commit", "update_container",
               "create_namespaced_pod", "delete_namespaced_pod", "patch_namespaced_deployment",
               "replace_namespaced_deployment", "connect_get_namespaced_pod_exec", "create_namespaced_pod_eviction"}


def _calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            out.append((f"{owner}.{name}" if owner else name, node.lineno))
    return out


def test_no_eval_or_exec() -> None:
    found = [(p.name, n, line) for p in SOURCES for n, line in _calls(p) if n in ("eval", "exec", "builtins.eval")]
    assert found == []


def test_yaml_only_through_safe_loaders() -> None:
    unsafe = {"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.full_load", "yaml.unsafe_load_all"}
    found = [(p.name, n, line) for p in SOURCES for n, line in _calls(p) if n in unsafe]
    assert found == []


def test_collectors_make_no_write_call() -> None:
    collectors = [p for p in SOURCES if p.parent.name == "collect"]
    assert collectors
    found = [(p.name, n, line) for p in collectors for n, line in _calls(p) if n.split(".")[-1] in WRITE_CALLS
             and not n.startswith(("thread", "pool", "executor", "timer", "self._thread"))]
    assert found == [], found
