"""What a preflight run compares against: limits and model layout read from the configs and the options."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from doctor.evidence import ConfigFact

APP_ROOT = "/var/azureml-app"  # where the server runs; local temp paths are shown as this in the evidence
GIB = 1024**3
DEFAULT_WALL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class RunPlan:
    """One preflight run: the script, the model layout, the samples and the numbers to hold it to."""

    script: Path
    samples: tuple[Path, ...]
    model_dir: Path | None
    model_name: str | None
    model_version: str
    memory_limit_bytes: int | None  # the service's limit (memory_gb / resources.limits.memory)
    timeout_ms: float | None  # the front end's scoring timeout
    timeout_setting: str  # its name in the user's dialect
    timeout_status: int  # what the client gets past it: 504, or 408 on managed online endpoints
    worker_count: int
    max_memory_bytes: int  # preflight's own bound on the child
    wall_seconds: float
    env: tuple[tuple[str, str], ...] = ()
    python: str | None = None  # the interpreter of the service's environment (default: mldoctor's own)


Plan = RunPlan  # the old name, kept for one release


def merged(facts: Sequence[ConfigFact]) -> dict[str, Any]:
    """The deployment settings of every fact (later files win), environment and script facts left out."""
    out: dict[str, Any] = {}
    for fact in facts:
        if fact.kind.startswith(("azureml-", "k8s-")):
            out.update({**fact.values, "kind": fact.kind})
    return out


def model_ref(config: dict[str, Any], script_facts: dict[str, Any], option: str | None) -> tuple[str | None, str]:
    """(name, version) of the deployed model: --model, the v2 `model: azureml:NAME:VERSION`, then score.py's."""
    text = option or config.get("model") or ""
    match = re.match(r"^(?:azureml:)?([\w.\-]+)(?:[:@]([\w.\-]+))?$", str(text))
    if match:
        return match.group(1), match.group(2) or "1"
    names = script_facts.get("model_names") or []
    return (names[0], "1") if names else (None, "1")


def timeout(config: dict[str, Any]) -> tuple[float | None, str, int]:
    """The scoring timeout in force, the setting's name, and the status a client sees past it."""
    settings = config.get("settings") or {}
    if config.get("request_timeout_ms") is not None:
        status = 408 if config.get("kind") == "azureml-v2-managed" else 504
        return float(config["request_timeout_ms"]), settings.get("request_timeout_ms", "request_timeout_ms"), status
    if config.get("scoring_timeout_ms") is not None:
        return float(config["scoring_timeout_ms"]), settings.get("scoring_timeout_ms", "scoring_timeout_ms"), 504
    return None, "scoring_timeout_ms", 504


def own_memory_bound(limit: int | None, option: int | None) -> int:
    """Preflight's bound on the child: twice the service limit (to measure past it), within half the machine."""
    if option:
        return option
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    wanted = max(2 * limit + 256 * 1024**2, GIB) if limit else 4 * GIB
    return int(min(wanted, physical // 2))


def worker_count(config: dict[str, Any]) -> int:
    """WORKER_COUNT from the v2 environment variables, else the server's default of 1."""
    variables = config.get("environment_variables") or {}
    try:
        return max(1, int(variables.get("WORKER_COUNT", 1)))
    except (TypeError, ValueError):
        return 1
