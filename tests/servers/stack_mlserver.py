"""Seldon MLServer (mlserver + mlserver-sklearn) serving a scikit-learn model or a custom runtime."""

from __future__ import annotations

import json

from servers_scenarios import MiB, Expect, Request, Scenario

MODELS = "/models"
READY = "Loaded model 'iris' successfully"
GOOD = json.dumps({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [0.1, 0.2, 0.9]}]})
BAD = json.dumps({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [0.1, 0.2]}]})
INFER = "/v2/models/iris/infer"


def _scenario(key: str, settings: str, port: int, extra: tuple[str, ...] = (), **kw: object) -> Scenario:
    env = {"MLSERVER_HTTP_PORT": str(port), "MLSERVER_GRPC_PORT": str(port + 1),
           "MLSERVER_METRICS_PORT": str(port + 2), **kw.pop("env", {})}  # type: ignore[dict-item]
    files = {f"{MODELS}/model-settings.json": settings, **{f"{MODELS}/{f}": f for f in extra}}
    return Scenario("mlserver", key, ("mlserver", "start", MODELS), files, env=env, workdir=MODELS, port=port,
                    **kw)  # type: ignore[arg-type]


SCENARIOS = [
    _scenario("healthy", "model-settings.json", 5311, ready=READY, requests=(Request(INFER, GOOD, 3),), until=""),
    _scenario("model-path", "model-settings-wrong-uri.json", 5314,
              expect=Expect("model-not-found", {"path": "/opt/models/sklearn-iris/v2/model.joblib"},
                            fix=("model-settings.json", "parameters.uri"))),
    _scenario("import-error", "model-settings-importerr.json", 5317, ("runtime_importerr.py",),
              expect=Expect("missing-python-module", {"module": "xgboost"}, fix=("xgboost",))),
    _scenario("memory-limit", "model-settings-custom.json", 5320, ("runtime.py",), env={"MODEL_MB": "400"},
              memory=300 * MiB, expect=Expect("oom-killed", {"memory_limit_bytes": 300 * MiB})),
    _scenario("handler-raises", "model-settings.json", 5323, ready=READY,
              requests=(Request(INFER, BAD, 4), Request(INFER, GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 4, "exception": "ValueError"},
                            cause=("X has 2 features",), fix=("MLServer",))),
    _scenario("optional", "model-settings-optional.json", 5326, ("runtime_optional.py",), ready=READY,
              requests=(Request(INFER, GOOD, 3),), until=""),
]
