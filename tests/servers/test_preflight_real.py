"""`mldoctor preflight` runs score.py under the REAL azmlinfsrv when the given Python has it (a venv that
.ci/servers.sh builds with azureml-inference-server-http), under the stand-in otherwise; the report says which."""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from servers_fixtures import unavailable
from servers_scenarios import CODE, REPO

VENV_PYTHON = Path("/var/cache/mldoctor/srv-preflight-venv/bin/python")
SCRIPTS = CODE / "azmlinfsrv"


def preflight(tmp_path: Path, script: str, bodies: list[str], python: Path | None) -> tuple[int, dict[str, Any]]:
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "model.pkl").write_bytes(pickle.dumps({"w": 2.0, "b": 0.5}))
    args = [sys.executable, "-m", "doctor", "preflight", "--entry-script", str(SCRIPTS / script),
            "--model-dir", str(model), "--model", "sklearn-model:1", "--format", "json"]
    for i, body in enumerate(bodies):
        sample = tmp_path / f"sample{i}.json"
        sample.write_text(body)
        args += ["--sample", str(sample)]
    if python:
        args += ["--python", str(python)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def real_python() -> Path:
    if not VENV_PYTHON.exists():
        unavailable(f"{VENV_PYTHON} missing: run `bash .ci/servers.sh` (it builds the preflight venv)")
    return VENV_PYTHON


def test_healthy_script_under_the_real_server(real_python: Path, tmp_path: Path) -> None:
    code, report = preflight(tmp_path, "score.py", ['{"data": [1, 2]}'], real_python)
    assert code == 0 and report["status"] == "healthy", [f["rule_id"] for f in report["findings"]]
    assert "real Azure ML inference server (azureml-inference-server-http 1.5.1)" in report["notes"][0]


def test_run_raising_under_the_real_server(real_python: Path, tmp_path: Path) -> None:
    code, report = preflight(tmp_path, "score.py", ['{"data": ["boom"]}', '{"data": ["x"]}'], real_python)
    first = report["findings"][0]
    assert code == 1 and first["rule_id"] == "scoring-error", [f["rule_id"] for f in report["findings"]]
    assert first["values"]["exception"] == "ValueError" and first["values"]["script_line"] == 21
    assert "azureml_inference_server_http" in json.dumps(first["evidence"])  # the real server's own traceback
    assert report["notes"][0].startswith("score.py ran under the real")


def test_import_error_under_the_real_server(real_python: Path, tmp_path: Path) -> None:
    code, report = preflight(tmp_path, "score_importerr.py", ['{"data": [1]}'], real_python)
    assert code == 1 and report["findings"][0]["rule_id"] == "missing-python-module"
    assert report["findings"][0]["values"]["module"] == "xgboost"


def test_unserializable_answer_under_the_real_server(real_python: Path, tmp_path: Path) -> None:
    # run() succeeds; the real server's json.dumps of its NumPy array fails: the same finding as the stand-in's
    code, report = preflight(tmp_path, "score_ndarray.py", ['{"data": [1, 2]}', '{"data": [3]}'], real_python)
    first = report["findings"][0]
    assert code == 1 and first["rule_id"] == "scoring-error", [f["rule_id"] for f in report["findings"]]
    assert first["values"]["returned_type"] == "ndarray" and "after `run()` returned" in first["cause"]


def test_without_the_server_the_stand_in_runs_and_says_so(tmp_path: Path) -> None:
    code, report = preflight(tmp_path, "score.py", ['{"data": [1, 2]}'], None)
    assert code == 0
    if importlib.util.find_spec("azureml_inference_server_http") is None:
        assert "stand-in" in report["notes"][0] and "not installed" in report["notes"][0]
    else:
        assert "real Azure ML inference server" in report["notes"][0]
