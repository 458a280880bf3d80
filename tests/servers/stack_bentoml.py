"""BentoML 1.4 serving a @bentoml.service class (`bentoml serve service:Linear`)."""

from __future__ import annotations

import json
import pickle

from servers_scenarios import MiB, Expect, Request, Scenario

READY = "Service Linear initialized"
GOOD = json.dumps({"instances": [1, 2]})
BAD = json.dumps({"instances": ["boom"]})
MODEL = {"/models/linear/model.pkl": pickle.dumps({"w": 2.0, "b": 0.5})}


def _scenario(key: str, service: str, port: int, **kw: object) -> Scenario:
    env = {"BENTOML_DO_NOT_TRACK": "true", **kw.pop("env", {})}  # type: ignore[dict-item]
    module = service.split(":")[0]
    return Scenario("bentoml", key, ("bentoml", "serve", service, "--port", str(port)),
                    {f"/app/{module}.py": f"{module}.py"}, env=env, workdir="/app", port=port, blobs=MODEL,
                    **kw)  # type: ignore[arg-type]


SCENARIOS = [
    _scenario("healthy", "service:Linear", 5351, ready=READY, requests=(Request("/predict", GOOD, 3),), until=""),
    _scenario("model-path", "service:Linear", 5353, env={"MODEL_DIR": "/models/linear/v2"},
              until="Application startup failed", until_count=2,
              expect=Expect("model-not-found", {"path": "/models/linear/v2/model.pkl"}, fix=("bentofile.yaml",))),
    _scenario("import-error", "service_importerr:Boosted", 5355,
              expect=Expect("missing-python-module", {"module": "xgboost"}, fix=("xgboost",))),
    _scenario("memory-limit", "service:Linear", 5357, env={"MODEL_MB": "400"}, memory=250 * MiB,
              until="oom-event", until_count=2, timeout=180,
              expect=Expect("worker-oom", {"memory_limit_bytes": 250 * MiB}, fix=("workers=1",))),
    _scenario("handler-raises", "service:Linear", 5359, ready=READY,
              requests=(Request("/predict", BAD, 4), Request("/predict", GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 4, "exception": "ValueError"},
                            cause=("/app/service.py",), fix=("pydantic",))),
    _scenario("optional", "service_optional:Linear", 5361, ready=READY, requests=(Request("/predict", GOOD, 3),),
              until=""),
    # the service's __init__ raises on the user's own bug (a key the model file does not have)
    _scenario("load-raises", "service_loaderr:Linear", 5415, until="Application startup failed", until_count=2,
              expect=Expect("init-failure", {"exception": "KeyError"},
                            cause=("service_loaderr.py", "while the model server starts"), fix=("service_loaderr.py",))),
]
