"""Seldon MLServer (mlserver + mlserver-sklearn) serving a scikit-learn model or a custom runtime."""

from __future__ import annotations

import json
import pickle

from servers_scenarios import MiB, Expect, Request, Scenario

MODELS = "/models"
READY = "Loaded model 'iris' successfully"
GOOD = json.dumps({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [0.1, 0.2, 0.9]}]})
BAD = json.dumps({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [0.1, 0.2]}]})
INFER = "/v2/models/iris/infer"


def _scenario(key: str, settings: str | dict[str, str], port: int, extra: tuple[str, ...] = (),
              **kw: object) -> Scenario:
    """`settings`: one model-settings file at /models, or {folder under /models: its model-settings file}
    (several models); `extra` files go to /models (with one model) or to each folder (several)."""
    env = {"MLSERVER_HTTP_PORT": str(port), "MLSERVER_GRPC_PORT": str(port + 1),
           "MLSERVER_METRICS_PORT": str(port + 2), **kw.pop("env", {})}  # type: ignore[dict-item]
    folders = {"": settings} if isinstance(settings, str) else {f"{d}/": f for d, f in settings.items()}
    files = {f"{MODELS}/{d}{name}": f for d, s in folders.items()
             for name, f in (("model-settings.json", s), *((x, x) for x in extra))}
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
    # two models, one failing its import: MLServer stops the whole server
    _scenario("multi-model", {"iris": "model-settings.json", "boosted": "model-settings-importerr.json"}, 5406,
              ("runtime_importerr.py",), expect=Expect("missing-python-module", {"module": "xgboost"},
                                                       fix=("xgboost",))),
    # the runtime's load() raises on the user's own bug (a key the parameters file does not have)
    _scenario("load-raises", "model-settings-loaderr.json", 5409, ("runtime_loaderr.py",),
              blobs={f"{MODELS}/params.pkl": pickle.dumps({"w": 2.0, "b": 0.5})},
              expect=Expect("init-failure", {"exception": "KeyError"},
                            cause=("runtime_loaderr.py", "makes MLServer stop the whole server"),
                            fix=("runtime_loaderr.py",))),
]
