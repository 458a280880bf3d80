"""Azure ML's own inference server (azureml-inference-server-http, `azmlinfsrv`) with the user's score.py."""

from __future__ import annotations

import json
import pickle

from servers_scenarios import MiB, Expect, Request, Scenario

APP = "/var/azureml-app"
MODELS = f"{APP}/azureml-models/sklearn-model"
GOOD = json.dumps({"data": [1, 2, 3]})
BAD = json.dumps({"data": ["boom"]})
READY = "ready for serving traffic"


def _scenario(key: str, script: str, port: int, **kw: object) -> Scenario:
    env = {"AZUREML_MODEL_DIR": f"{MODELS}/1", **kw.pop("env", {})}  # type: ignore[dict-item]
    return Scenario("azmlinfsrv", key, ("azmlinfsrv", "--entry_script", f"{APP}/{script}", "--port", str(port)),
                    {f"{APP}/{script}": script}, env=env, workdir=APP, port=port,
                    blobs={f"{MODELS}/1/model.pkl": pickle.dumps({"w": 2.0, "b": 0.5})}, **kw)  # type: ignore[arg-type]


SCENARIOS = [
    _scenario("healthy", "score.py", 5301, ready=READY, requests=(Request("/score", GOOD, 3),), until=""),
    _scenario("model-path", "score.py", 5302, env={"AZUREML_MODEL_DIR": f"{MODELS}/2"},
              expect=Expect("model-not-found", {"path": f"{MODELS}/2/model.pkl", "model_name": "sklearn-model",
                                                "model_version": "2", "script_line": 14},
                            fix=("AZUREML_MODEL_DIR",))),
    _scenario("import-error", "score_importerr.py", 5303,
              expect=Expect("missing-python-module", {"module": "xgboost"}, fix=("xgboost",))),
    _scenario("memory-limit", "score_big_init.py", 5304, env={"MODEL_MB": "300"}, memory=150 * MiB,
              until="Booting worker with pid", until_count=3,
              expect=Expect("worker-boot-loop", {"memory_limit_bytes": 150 * MiB}, fix=("0.15 GB",))),
    _scenario("handler-raises", "score.py", 5305, ready=READY,
              requests=(Request("/score", BAD, 4), Request("/score", GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 4, "exception": "ValueError", "script_line": 21},
                            fix=("line 21", "ValueError"))),
    _scenario("handled-then-raises", "score_handled.py", 5307, ready=READY,
              requests=(Request("/score", BAD, 3), Request("/score", GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 3, "exception": "ValueError", "script_line": 27},
                            fix=("line 27", "ValueError"))),
    _scenario("optional-import", "score_optional.py", 5308, ready=READY, requests=(Request("/score", GOOD, 3),),
              until=""),  # healthy: the ModuleNotFoundError it prints is handled
    _scenario("slow-run", "score_slow.py", 5306, env={"WORKER_TIMEOUT": "2", "RUN_SECONDS": "8"}, ready=READY,
              requests=(Request("/score", GOOD, 1, timeout=20),), until="Booting worker with pid", until_count=2,
              expect=Expect("worker-timeout", {"timeout_seconds": 2.0}, fix=("WORKER_TIMEOUT",))),
    # run() succeeds but returns a NumPy array, which the server cannot write as JSON: every request answers 500
    _scenario("unserializable", "score_ndarray.py", 5309, ready=READY, requests=(Request("/score", GOOD, 3),), until="",
              expect=Expect("scoring-error", {"failures": 3, "exception": "TypeError"}, fix=("tolist()",))),
]
