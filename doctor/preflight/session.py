"""One preflight run: lay out the app root like the service, run the harness, build the Evidence."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from doctor.evidence import Evidence
from doctor.preflight import predict
from doctor.preflight.plan import APP_ROOT, RunPlan
from doctor.preflight.runner import Bounds, run_harness


def run(plan: RunPlan, missing: list[tuple[str, str]]) -> Evidence:
    """Run the plan in a throw-away app root; the predicted Evidence."""
    with tempfile.TemporaryDirectory(prefix="mldoctor-preflight-") as tmp:
        app_root = Path(tmp) / "app"
        app_root.mkdir()
        env = _environment(plan, app_root)
        spec = {"script": str(plan.script.resolve()), "samples": [str(s.resolve()) for s in plan.samples],
                "app_root": str(app_root)}
        run_seconds = max(2 * plan.timeout_ms / 1000, plan.timeout_ms / 1000 + 3) if plan.timeout_ms else None
        bounds = Bounds(plan.wall_seconds, plan.max_memory_bytes, run_seconds)
        measured = run_harness(spec, Path(tmp), env, bounds, plan.python)
        evidence = predict.build(plan, measured, str(app_root), missing, _listing(app_root))
        evidence.notes.insert(0, server_note(measured.server, plan.python))
        return evidence


def server_note(server: str | None, python: str | None) -> str:
    """Which server ran score.py: the real azmlinfsrv, or mldoctor's stand-in when it is not installed."""
    where = f" in {python}" if python else ""
    if server:
        return f"score.py ran under the real Azure ML inference server ({server}){where}"
    return (f"score.py ran under mldoctor's stand-in for the Azure ML inference server: azureml-inference-server-http "
            f"is not installed{where} (install it, or pass --python with the service's environment, to run the real one)")


def _listing(app_root: Path, limit: int = 1000) -> list[str]:
    """Every file under the app root's `azureml-models`, as the service's paths (for model-not-found)."""
    found: list[str] = []
    for root, _dirs, files in os.walk(app_root / "azureml-models", followlinks=True):
        relative = os.path.relpath(root, app_root)
        found.extend(f"{APP_ROOT}/{relative}/{name}" for name in sorted(files))
        if len(found) >= limit:
            break
    return found[:limit]


def model_dir_for(plan: RunPlan, app_root: Path) -> str | None:
    """AZUREML_MODEL_DIR as the service sets it: `azureml-models/NAME/VERSION` linked to --model-dir."""
    if plan.model_dir is None:
        return None
    if plan.model_name is None:
        return str(plan.model_dir.resolve())
    folder = app_root / "azureml-models" / plan.model_name
    folder.mkdir(parents=True)
    (folder / plan.model_version).symlink_to(plan.model_dir.resolve(), target_is_directory=True)
    return str(folder / plan.model_version)


def _environment(plan: RunPlan, app_root: Path) -> dict[str, str]:
    """The child's environment: ours, the deployment's variables, and what the server sets."""
    env = {**os.environ, **dict(plan.env)}
    env.pop("PYTHONSTARTUP", None)
    env.update({"AML_APP_ROOT": str(app_root), "AZUREML_ENTRY_SCRIPT": str(plan.script.resolve()),
                "WORKER_COUNT": str(plan.worker_count), "PYTHONUNBUFFERED": "1"})
    model_dir = model_dir_for(plan, app_root)
    if model_dir:
        env["AZUREML_MODEL_DIR"] = model_dir
    if plan.timeout_ms:
        env["SCORING_TIMEOUT_MS"] = str(int(plan.timeout_ms))
    return env
