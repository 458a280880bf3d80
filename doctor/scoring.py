"""Static reading of a scoring script (`score.py`): what it defines, imports, and does where.

The script is parsed with `ast`, never imported or run here (preflight runs it, in a separate process).
"""

from __future__ import annotations

import ast
from typing import Any

# calls that load a model whatever they are called on
_MODEL_LOADERS = {"load_model", "from_pretrained", "get_model_path", "read_pickle", "InferenceSession", "load_learner"}
# `<module>.load(...)` / `.loads(...)` loads a model only on these modules (`json.loads(data)` in run() is normal)
_LOADER_MODULES = {"joblib", "pickle", "torch", "dill", "cloudpickle", "onnx", "keras", "mlflow", "xgb", "lgb"}


def analyse(text: str, label: str) -> dict[str, Any]:
    """Facts about the script for rules: functions, imports, model names, risky patterns, with lines."""
    try:
        tree = ast.parse(text, filename=label)
    except SyntaxError as err:
        return {"syntax_error": f"{err.msg} (line {err.lineno})", "syntax_error_line": err.lineno,
                "has_init": False, "has_run": False, "imports": []}
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    run = funcs.get("run")
    return {
        "has_init": "init" in funcs,
        "has_run": "run" in funcs,
        "init_line": funcs["init"].lineno if "init" in funcs else None,
        "run_line": run.lineno if run else None,
        "run_args": len(run.args.args) if run else None,
        "imports": sorted(_imports(tree)),
        "model_names": sorted(_model_names(tree)),
        "model_path_line": min((n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                                and _call_name(n) == "get_model_path"), default=None),
        "loads_model_in_run": _first_loader_line(run) if run else None,
        "returns_exception_text": _returns_exception(run) if run else None,
        "syntax_error": None,
    }


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _model_names(tree: ast.AST) -> set[str]:
    """Names passed to `Model.get_model_path(...)` (first argument or `model_name=`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "get_model_path":
            args = [a for a in node.args[:1]] + [k.value for k in node.keywords if k.arg == "model_name"]
            names.update(a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def _first_loader_line(func: ast.FunctionDef) -> int | None:
    """The first line in the function that loads a model (a file read on every request)."""
    lines = [node.lineno for node in ast.walk(func) if isinstance(node, ast.Call) and _is_loader(node)]
    return min(lines, default=None)


def _is_loader(node: ast.Call) -> bool:
    name = _call_name(node)
    if name in _MODEL_LOADERS:
        return True
    func = node.func
    return (name in ("load", "loads") and isinstance(func, ast.Attribute)
            and _root_name(func.value) in _LOADER_MODULES)


def _root_name(node: ast.expr) -> str:
    """`torch` for `torch.jit`, `mlflow` for `mlflow.pyfunc`."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _returns_exception(func: ast.FunctionDef) -> int | None:
    """The line of an `except ... as e:` in run() that returns `e`'s text, directly or via a variable (`result = str(e)`)."""
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler) and node.name:
            tainted = {node.name} | _assigned_from(node, node.name)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None and _mentions(inner.value, tainted):
                    return inner.lineno
    return None


def _assigned_from(handler: ast.ExceptHandler, name: str) -> set[str]:
    """Variables assigned from an expression that mentions `name` inside the handler."""
    return {target.id for inner in ast.walk(handler) if isinstance(inner, ast.Assign) and _mentions(inner.value, {name})
            for target in inner.targets if isinstance(target, ast.Name)}


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))
