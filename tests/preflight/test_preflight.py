"""`mldoctor preflight` on real scoring scripts: each failure predicted with its numbers, within preflight's bounds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES

F = FIXTURES / "preflight"
MB = 1024 * 1024


def preflight(cli: Any, *args: str, budget: float = 20.0) -> tuple[int, dict[str, Any]]:
    """Run preflight with a JSON report; assert the call itself stayed within `budget` seconds."""
    start = time.monotonic()
    result = cli("preflight", *args, "--format", "json")
    elapsed = time.monotonic() - start
    assert elapsed < budget, f"preflight took {elapsed:.1f} s"
    assert result.err == "" or "error" not in result.err, result.err
    return result.code, result.json()


def finding(report: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found = [f for f in report["findings"] if f["rule_id"] == rule_id]
    assert found, f"no {rule_id} in {[f['rule_id'] for f in report['findings']]}"
    assert found[0]["predicted"] is True
    return found[0]


def note(report: dict[str, Any], startswith: str) -> str:
    return next(n for n in report["notes"] if n.startswith(startswith))


def test_good_script_is_healthy(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_good.py"), "--model-dir", str(F / "model"),
                             "--sample", str(F / "samples/good.json"), "--config", str(F / "deployment_fast.yml"),
                             "--environment", str(F / "env_ok.yml"))
    assert code == 0
    assert report["status"] == "healthy" and report["predicted"] is True
    assert not [f for f in report["findings"] if f["severity"] in ("error", "critical", "warning")]
    assert "peak" in note(report, "preflight: run() #1")
    assert "worker exit code 0" in note(report, "preflight: worker")


def test_init_raises(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_init_raises.py"))
    assert code == 1
    values = finding(report, "init-failure")["values"]
    assert values["exception"] == "KeyError" and values["script_line"] == 7
    assert values["script"].endswith("score_init_raises.py")
    assert "worker exit code 3" in note(report, "preflight: worker")


def test_wrong_model_name(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_wrong_model.py"), "--model-dir", str(F / "model"),
                             "--config", str(F / "deployment_fast.yml"))
    assert code == 1
    values = finding(report, "model-not-found")["values"]
    assert values["path"] == "./linear-modle" and values["model_name"] == "linear-modle"
    assert values["existing_models"] == ["linear-model/3"]  # the layout the v2 config's model names
    assert "init-failure" not in [f["rule_id"] for f in report["findings"]]


def test_right_model_name_resolves_through_the_shim(cli: Any, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text((F / "score_wrong_model.py").read_text().replace("linear-modle", "linear-model"))
    code, report = preflight(cli, "--entry-script", str(script), "--model-dir", str(F / "model"),
                             "--model", "linear-model:3", "--sample", str(F / "samples/good.json"))
    assert code == 0, report["findings"]


def test_missing_module(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_missing_module.py"))
    assert code == 1
    assert finding(report, "missing-python-module")["values"]["module"] == "xgboost_not_installed_anywhere"


def test_environment_lacks_imports(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_imports.py"), "--environment", str(F / "env_ok.yml"))
    assert code == 1
    values = finding(report, "missing-python-module")["values"]
    assert values["module"] == "sklearn" and values["package"] == "scikit-learn"
    assert "add `scikit-learn`" in note(report, "preflight: the environment file does not provide `sklearn`")
    assert "add `pyyaml`" in note(report, "preflight: the environment file does not provide `yaml`")


def test_environment_lacks_inference_server(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_good.py"), "--model-dir", str(F / "model"),
                             "--environment", str(F / "env_no_server.yml"))
    assert code == 1
    assert finding(report, "missing-inference-server")["values"]["environment_file"].endswith("env_no_server.yml")


def test_run_raises_on_sample(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_run_raises.py"), "--sample", str(F / "samples/bad.json"))
    assert code == 1
    values = finding(report, "scoring-error")["values"]
    assert values["exception"] == "ValueError" and values["script_line"] == 11
    assert "raised" in note(report, "preflight: run() #1")


def test_run_returns_what_json_cannot_hold(cli: Any) -> None:
    # run() itself succeeds; the server's answer (json.dumps of its result) fails: preflight must not call it healthy
    code, report = preflight(cli, "--entry-script", str(F / "score_ndarray.py"), "--sample", str(F / "samples/good.json"))
    assert code == 1
    found = finding(report, "scoring-error")
    assert found["values"]["returned_type"] == "ndarray" and found["values"]["exception"] == "TypeError"
    assert "`.tolist()`" in found["fix"]


def test_init_allocates_more_than_memory_gb(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_big_init.py"), "--config", str(F / "deploy_small.json"))
    assert code == 1
    found = finding(report, "worker-boot-loop")
    assert found["values"]["memory_limit_bytes"] == 512 * MB
    assert found["values"]["suggested_memory_gb"] >= 1.0
    init = note(report, "preflight: init()")
    peak = float(init.split("peak ")[1].split(" MB")[0])
    assert 690 < peak < 900 and "(limit 512.0 MB)" in init


def test_own_memory_bound_stops_a_runaway_allocation(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_big_init.py"), "--config", str(F / "deploy_small.json"),
                             "--max-memory", "600Mi")
    assert code == 1
    assert "stopped: memory" in note(report, "preflight: worker")
    init = note(report, "preflight: init()")
    assert "stopped by preflight: memory" in init
    assert float(init.split("peak ")[1].split(" MB")[0]) < 700  # killed before it got all it asked for
    finding(report, "worker-boot-loop")


def test_run_past_the_timeout(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_slow.py"), "--sample", str(F / "samples/good.json"),
                             "--config", str(F / "deployment_fast.yml"))
    assert code == 1
    values = finding(report, "timeout-504")["values"]
    assert values["timeout_ms"] == 1000
    assert 2400 <= values["latency_max_ms"] < 4000
    assert values["count_408"] == 1  # a managed online endpoint answers 408 past request_timeout_ms
    run = note(report, "preflight: run() #1")
    assert float(run.split(": ")[2].split(" ms")[0]) >= 2400 and "timeout 1000 ms" in run


def test_run_that_never_returns_is_stopped(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_hang.py"), "--sample", str(F / "samples/good.json"),
                             "--config", str(F / "deploy_small.json"), "--timeout-seconds", "3", budget=10)
    assert code == 1
    finding(report, "timeout-504")
    assert "stopped: wall" in note(report, "preflight: worker")
    assert "stopped by preflight: wall" in note(report, "preflight: run() #1")


def test_no_process_left_behind(cli: Any, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("import subprocess, sys\n\ndef init():\n    global child\n"
                      "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                      "    open(%r, 'w').write(str(child.pid))\n\ndef run(data):\n    while True:\n        pass\n"
                      % str(tmp_path / "pid"))
    preflight(cli, "--entry-script", str(script), "--sample", str(F / "samples/good.json"), "--timeout-seconds", "2", budget=10)
    pid = int((tmp_path / "pid").read_text())
    time.sleep(0.2)
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z"  # the whole process group was killed


def test_exit_2_on_bad_environment_file(cli: Any) -> None:
    result = cli("preflight", "--entry-script", str(F / "score_good.py"), "--environment", str(F / "score_good.py"))
    assert result.code == 2 and "environment" in result.err


@pytest.mark.parametrize("fmt", ["console", "markdown", "junit"])
def test_other_formats(cli: Any, fmt: str) -> None:
    result = cli("preflight", "--entry-script", str(F / "score_init_raises.py"), "--format", fmt)
    assert result.code == 1 and "init" in result.out


def test_init_that_never_returns_is_a_finding(cli: Any) -> None:
    code, report = preflight(cli, "--entry-script", str(F / "score_init_hang.py"), "--sample", str(F / "samples/good.json"),
                             "--config", str(F / "deploy_small.json"), "--timeout-seconds", "3", budget=10)
    assert code == 1
    hang = finding(report, "init-hang")
    assert 2.5 <= hang["values"]["seconds"] < 6
    assert report["findings"][0]["rule_id"] == "init-hang"
