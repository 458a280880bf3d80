"""`mldoctor check docker:NAME` on the real scenario containers: the right finding with the right numbers,
and `mldoctor collect` → bundle → `mldoctor check BUNDLE` gives the same findings."""

# ruff: noqa: F811  (pytest fixtures imported from docker_fixtures are parameters here)
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from docker_fixtures import docker_client, driven, lone_scenario, scenarios  # noqa: F401  (fixtures, used by name)
from docker_scenarios import MODEL_DIR_V2, RETRIES, Driven, Scenario, drive

pytestmark = pytest.mark.docker
LIMIT = 160 * (1 << 20)

# scenario -> (rule id of the first finding, values it must carry, texts its fix must contain)
EXPECTED: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "bootloop": ("worker-boot-loop", {"memory_limit_bytes": LIMIT}, ("0.16 GB", "memory_gb=")),
    "main-oom": ("oom-killed", {"memory_limit_bytes": LIMIT, "restart_count": 0}, ("0.16 GB", "memory_gb=")),
    "init-raise": ("init-failure", {"exception": "RuntimeError", "script_line": 9,
                                    "script": "/var/azureml-app/score_init_raise.py"}, ("line 9", "RuntimeError")),
    "model-missing": ("model-not-found", {"path": f"{MODEL_DIR_V2}/model.pkl", "model_name": "sklearn-model",
                                          "model_version": "2", "existing_models": ["sklearn-model/1"]},
                      ("sklearn-model/1", "AZUREML_MODEL_DIR")),
    "no-module": ("missing-python-module", {"module": "xgboost", "script_line": 3}, ("xgboost",)),
    "run-raise": ("scoring-error", {"failures": 5, "exception": "ValueError", "script_line": 20},
                  ("line 20", "ValueError")),
    "slow-run": ("worker-timeout", {"timeout_seconds": 2.0, "timeouts": 1}, ("2 s", "WORKER_TIMEOUT")),
    "overload": ("overload-503", {"max_concurrent": 1}, ("autoscale_min_replicas", "replicas = ceil(")),
}


def mldoctor(*args: str) -> tuple[int, str]:
    """Run the CLI as a user would; its exit code and stdout."""
    done = subprocess.run([sys.executable, "-m", "doctor", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), f"mldoctor {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.returncode, done.stdout


def check_json(target: str, *args: str) -> tuple[int, dict[str, Any]]:
    """`mldoctor check TARGET --format json [ARGS]`: exit code and the parsed report."""
    code, out = mldoctor("check", target, "--format", "json", *args)
    return code, json.loads(out)


def assert_diagnosis(key: str, code: int, report: dict[str, Any], driven: Driven | None = None) -> None:
    """The first finding is the expected rule, with the expected numbers in its values and fix."""
    rule, values, fix_texts = EXPECTED[key]
    assert code == 1 and report["status"] == "failing", report
    first = report["findings"][0]
    assert first["rule_id"] == rule, [f["rule_id"] for f in report["findings"]]
    assert {k: first["values"].get(k) for k in values} == values
    for text in fix_texts:
        assert text in first["fix"], (text, first["fix"])
    if key == "overload" and driven is not None:
        assert first["values"]["count_503"] == driven.statuses.count(503)
    assert not report["collector_errors"]


def assert_bundle_same(name: str, live: dict[str, Any], tmp_path: Path) -> None:
    """collect -> bundle -> check gives the same findings as the live check."""
    bundle = tmp_path / f"{name}.tar.gz"
    mldoctor("collect", f"docker:{name}", "--output", str(bundle))
    _, offline = check_json(str(bundle))
    diffs = [(a["rule_id"], key, a.get(key), b.get(key)) for a, b in zip(live["findings"], offline["findings"])
             for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
    assert [f["rule_id"] for f in offline["findings"]] == [f["rule_id"] for f in live["findings"]]
    assert not diffs, diffs  # whole findings: title, cause, fix, values, evidence
    assert [c for c in offline["checks"] if c["result"] == "matched"] == \
        [c for c in live["checks"] if c["result"] == "matched"]


@pytest.mark.parametrize("key", [k for k in EXPECTED if k != "bootloop"])
def test_check_live_and_from_bundle(key: str, driven: Callable[[str], Driven], tmp_path: Path) -> None:
    done = driven(key)
    code, live = check_json(f"docker:{done.scenario.name}")
    assert_diagnosis(key, code, live, done)
    assert_bundle_same(done.scenario.name, live, tmp_path)


def test_check_healthy(driven: Callable[[str], Driven], tmp_path: Path) -> None:
    s = driven("healthy").scenario
    code, live = check_json(f"docker:{s.name}")
    assert code == 0 and live["status"] == "healthy"
    assert not [f for f in live["findings"] if f["severity"] in ("warning", "error", "critical")]
    assert any(c["result"] == "clear" for c in live["checks"])
    assert_bundle_same(s.name, live, tmp_path)


def test_init_failure_restart_count(docker_client: Any, driven: Callable[[str], Driven]) -> None:
    """The restarts the engine counted are read (the generic crash-loop finding names them), and the specific
    cause hides that generic finding."""
    s = driven("init-raise").scenario
    _, live = check_json(f"docker:{s.name}")
    assert live["findings"][0]["rule_id"] == "init-failure"
    assert "crash-loop" not in [f["rule_id"] for f in live["findings"]]  # the specific cause explains the restarts
    crash = next(c for c in live["checks"] if c["rule_id"] == "crash-loop")
    assert crash["result"] == "skipped" and "init-failure" in crash["reason"]
    restarts = docker_client.api.inspect_container(s.name)["RestartCount"]
    assert restarts == RETRIES  # the restart policy gave up after its retries
    _, generic = check_json(f"docker:{s.name}", "--ignore", "init-failure", "--ignore", "worker-boot-loop")
    first = generic["findings"][0]
    assert first["rule_id"] == "crash-loop" and first["values"]["restart_count"] == restarts
    assert f"({restarts} restarts)" in first["title"]


def freeze(client: Any, name: str) -> None:
    """`docker pause`, tried again while the cgroup freezer refuses (it can, while the kernel is OOM-killing)."""
    import docker

    for attempt in range(10):
        try:
            client.api.pause(name)
            return
        except docker.errors.APIError:
            if attempt == 9:
                raise
            time.sleep(0.5)


@pytest.mark.parametrize("lone_scenario", ["bootloop"], indirect=True)
def test_check_boot_loop(docker_client: Any, lone_scenario: Scenario, tmp_path: Path) -> None:
    s = drive(docker_client, lone_scenario).scenario
    code, live = check_json(f"docker:{s.name}")
    assert_diagnosis("bootloop", code, live)
    assert live["findings"][0]["values"]["boot_count"] >= 4
    freeze(docker_client, s.name)  # freeze the loop so the live check and the bundle see the same log
    _, frozen = check_json(f"docker:{s.name}")
    assert frozen["findings"][0]["rule_id"] == "worker-boot-loop"
    assert_bundle_same(s.name, frozen, tmp_path)


def test_bare_name_and_not_found(driven: Callable[[str], Driven]) -> None:
    s = driven("no-module").scenario
    code, report = check_json(s.name)  # bare NAME: Docker first
    assert code == 1 and report["findings"][0]["rule_id"] == "missing-python-module"
    missing = subprocess.run([sys.executable, "-m", "doctor", "check", f"docker:{s.name}x"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and s.name in missing.stderr


def test_unreachable_engine_exit_3(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "doctor", "check", "docker:anything"], capture_output=True,
                          text=True, timeout=120, env=env, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 3 and "docker run hello-world" in done.stderr and "DOCKER_HOST" in done.stderr
