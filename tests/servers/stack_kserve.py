"""KServe's Python model server (kserve 0.21) running a custom predictor (kserve.Model), as a predictor pod does."""

from __future__ import annotations

import json
import pickle

from servers_scenarios import MiB, Expect, Request, Scenario

READY = "Uvicorn running on"
PREDICT = "/v1/models/linear:predict"
GOOD = json.dumps({"instances": [1, 2]})
BAD = json.dumps({"instances": ["boom"]})
MODEL = {"/mnt/models/model.pkl": pickle.dumps({"w": 2.0, "b": 0.5})}


def _scenario(key: str, script: str, port: int, **kw: object) -> Scenario:
    return Scenario("kserve", key, ("python3", f"/app/{script}", "--http_port", str(port), "--grpc_port", str(port + 1)),
                    {f"/app/{script}": script}, workdir="/app", port=port, blobs=MODEL, **kw)  # type: ignore[arg-type]


SCENARIOS = [
    _scenario("healthy", "model.py", 5331, ready=READY, requests=(Request(PREDICT, GOOD, 3),), until=""),
    _scenario("model-path", "model.py", 5333, env={"MODEL_DIR": "/mnt/models/v2"},
              expect=Expect("model-not-found", {"path": "/mnt/models/v2/model.pkl"}, fix=("storageUri",))),
    _scenario("import-error", "model_importerr.py", 5335,
              expect=Expect("missing-python-module", {"module": "xgboost"}, fix=("xgboost",))),
    _scenario("memory-limit", "model.py", 5337, env={"MODEL_MB": "400"}, memory=250 * MiB,
              expect=Expect("oom-killed", {"memory_limit_bytes": 250 * MiB})),
    _scenario("handler-raises", "model.py", 5339, ready=READY,
              requests=(Request(PREDICT, BAD, 4), Request(PREDICT, GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 4, "exception": "ValueError"},
                            cause=("/app/model.py",), fix=("kserve.errors.InvalidInput",))),
    _scenario("optional", "model_optional.py", 5341, ready=READY, requests=(Request(PREDICT, GOOD, 3),), until=""),
    # the predictor's load() raises on the user's own bug (a key the model file does not have)
    _scenario("load-raises", "model_loaderr.py", 5412,
              expect=Expect("init-failure", {"exception": "KeyError"},
                            cause=("model_loaderr.py", "while the model server starts"), fix=("model_loaderr.py",))),
    # load() returns True but never sets self.ready: KServe registers no model and stops at start (NoModelReady)
    _scenario("not-ready", "model_notready.py", 5421,
              expect=Expect("init-failure", {"exception": "NoModelReady"}, fix=("self.ready = True",))),
]
