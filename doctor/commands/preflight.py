"""`mldoctor preflight`: run score.py as the inference server would, before deploying, and predict its failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import click

from doctor.pipeline import diagnose_and_report, report_options
from doctor.evidence import ConfigFact


@click.command()
@click.option("--entry-script", required=True, type=click.Path(exists=True, dir_okay=False), help="The scoring script (score.py).")
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Local folder with the model files; served as AZUREML_MODEL_DIR.")
@click.option("--model", "model_ref", default=None, help="Registered model NAME[:VERSION] (default: from the config or score.py).")
@click.option("--sample", "samples", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A request body (JSON) to pass to run(); repeatable. Never sent anywhere.")
@click.option("--environment", default=None, type=click.Path(exists=True, dir_okay=False), help="Conda YAML or pip requirements file.")
@click.option("--timeout-seconds", default=300.0, show_default=True, type=float, help="Hard wall-clock bound on the script.")
@click.option("--memory-limit", default=None, help="The service's memory limit (e.g. 1Gi, 512Mi, or GB as in memory_gb=1.5).")
@click.option("--max-memory", default=None, help="Preflight's own bound on the script's memory (default: twice the limit).")
@click.option("--python", "python", default=None, type=click.Path(exists=True, dir_okay=False),
              help="The Python of the service's environment (default: this one). When it has azureml-inference-server-http, "
                   "score.py runs under the real server.")
@report_options
def preflight(entry_script: str, model_dir: str | None, model_ref: str | None, samples: Sequence[str],
              environment: str | None, timeout_seconds: float, memory_limit: str | None, max_memory: str | None,
              python: str | None, configs: Sequence[str], **report_opts: Any) -> int:
    """Run score.py's init() and run() in a bounded child process and report the failures a deployment would hit."""
    from doctor.pipeline import load_config_files
    from doctor.preflight import imports, session

    script = Path(entry_script)
    facts = load_config_files(configs)
    script_facts = _script_facts(script)
    env_packages = _environment_packages(environment)
    plan = _plan(script, model_dir, model_ref, samples, facts, script_facts, timeout_seconds, memory_limit, max_memory)
    if python:
        from dataclasses import replace

        plan = replace(plan, python=python)
    missing = imports.missing(script_facts.get("imports") or [], env_packages, script) if environment else []
    evidence = session.run(plan, missing)
    extra = [str(script)] + ([environment] if environment else [])
    return diagnose_and_report([evidence], configs=list(configs) + extra, **report_opts)


def _plan(script: Path, model_dir: str | None, model_ref: str | None, samples: Sequence[str], facts: list[ConfigFact],
          script_facts: dict[str, Any], wall: float, memory_limit: str | None, max_memory: str | None) -> Any:
    from doctor.preflight import plan as plans

    config = plans.merged(facts)
    name, version = plans.model_ref(config, script_facts, model_ref)
    limit = _size(memory_limit, "--memory-limit") or config.get("memory_limit_bytes")
    timeout_ms, setting, status = plans.timeout(config)
    variables = {str(k): str(v) for k, v in (config.get("environment_variables") or {}).items()}
    return plans.RunPlan(script, tuple(Path(s) for s in samples), Path(model_dir) if model_dir else None, name, version,
                      int(limit) if limit else None, timeout_ms, setting, status, plans.worker_count(config),
                      plans.own_memory_bound(int(limit) if limit else None, _size(max_memory, "--max-memory")),
                      wall, tuple(variables.items()))


def _size(text: str | None, option: str) -> int | None:
    """Bytes from `1Gi` / `512Mi` / `2G`; a bare number under 1024 is GB, as memory_gb= takes it."""
    from doctor.convert import quantity
    from doctor.errors import InputError

    if not text:
        return None
    value = quantity(text)
    if value is None or value <= 0:
        raise InputError(f"not a memory size: {text!r} (use e.g. 1Gi, 512Mi or 1.5)", option)
    return int(value * 1024**3) if value < 1024 and text.strip().replace(".", "", 1).isdigit() else int(value)


def _script_facts(script: Path) -> dict[str, Any]:
    from doctor.config import read_config

    facts = read_config(script)
    return facts[0].values if facts and facts[0].kind == "score-script" else {}


def _environment_packages(environment: str | None) -> dict[str, Any]:
    from doctor.config import read_config
    from doctor.errors import InputError

    if not environment:
        return {}
    facts = [f for f in read_config(Path(environment)) if f.kind == "environment"]
    if not facts:
        raise InputError("not recognised as a conda environment or pip requirements file", environment)
    return dict(facts[0].values.get("packages") or {})
