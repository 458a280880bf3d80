"""The package's shape holds: no module imports another's private (`_name`) names, and no import cycle (lazy
imports inside functions count too: a cycle is a cycle however late it closes)."""

from __future__ import annotations

import ast
from collections import defaultdict

from conftest import ROOT

PACKAGE = ROOT / "doctor"


def modules() -> dict[str, ast.Module]:
    """Every module of the package (the preflight shim, which stands in for other packages, left out)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "shim" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text("utf-8"))
    return found


def imports(mods: dict[str, ast.Module]) -> dict[str, set[tuple[str, str]]]:
    """module -> {(imported module, imported name)} for every `from doctor... import name`."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, tree in mods.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("doctor"):
                out[name] |= {(str(node.module), alias.name) for alias in node.names}
            elif isinstance(node, ast.Import):
                out[name] |= {(alias.name, "") for alias in node.names if alias.name.startswith("doctor")}
    return out


def test_no_private_names_imported_across_modules() -> None:
    private = [(mod, src, name) for mod, found in imports(modules()).items() for src, name in found
               if name.startswith("_") and not name.startswith("__") and src != mod]
    assert not private, private


def test_no_import_cycle() -> None:
    mods = modules()
    graph = {mod: {f"{src}.{name}" if f"{src}.{name}" in mods else src for src, name in found} & set(mods) - {mod}
             for mod, found in imports(mods).items()}
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for dep in sorted(graph.get(mod, ())):
            assert state.get(dep) != 1, "import cycle: " + " -> ".join(path[path.index(dep):] + [dep])
            if dep not in state:
                visit(dep, path + [dep])
        state[mod] = 2

    for mod in sorted(mods):
        if mod not in state:
            visit(mod, [mod])


def test_readme_layout_gives_every_package_a_role() -> None:
    """Each package (and top-level module) of doctor/ is named in the README's layout table."""
    layout = (ROOT / "README.md").read_text("utf-8").split("## Layout", 1)[1]
    names = [f"doctor/{p.name}/" for p in sorted(PACKAGE.iterdir()) if p.is_dir() and (p / "__init__.py").exists()
             or p.is_dir() and p.name == "rules"]
    names += [f"doctor/{p.name}" for p in sorted(PACKAGE.glob("*.py")) if p.name not in ("__init__.py", "__main__.py")]
    missing = [n for n in names if f"`{n}`" not in layout]
    assert not missing, f"README's layout does not say what these are for: {missing}"
