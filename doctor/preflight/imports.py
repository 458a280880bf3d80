"""Which of the script's imports the environment file does not provide, by pip name."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterable

from doctor.packages import providers

# packages that arrive with the inference server (azureml-defaults pulls them in)
WITH_SERVER = {"flask", "werkzeug", "jinja2", "gunicorn", "click", "itsdangerous", "markupsafe", "inference_schema"}


def missing(imports: Iterable[str], packages: dict[str, Any], script: Path) -> list[tuple[str, str]]:
    """(import name, pip name) for each third-party import that no listed package provides."""
    names = {p.lower().replace("_", "-") for p in packages}
    has_server = bool(names & {"azureml-defaults", "azureml-inference-server-http"})
    out = []
    for module in sorted(set(imports)):
        if module in sys.stdlib_module_names or _local(module, script) or module == "__future__":
            continue
        if has_server and module in WITH_SERVER:
            continue
        candidates = providers(module)
        if not names & set(candidates):
            out.append((module, candidates[0]))
    return out


def _local(module: str, script: Path) -> bool:
    """A module that ships beside score.py (a .py file or a package folder)."""
    folder = script.parent
    return (folder / f"{module}.py").exists() or (folder / module / "__init__.py").exists()
