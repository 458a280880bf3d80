"""TorchServe 0.12 (its Java frontend on Debian's OpenJDK 17, the Python worker on torch 2.13 CPU) serving a custom
handler (BaseHandler) archived at start by torch-model-archiver (fixtures/servers/code/torchserve/serve.sh)."""

from __future__ import annotations

import json

from servers_scenarios import MiB, Expect, Request, Scenario

READY = "State change WORKER_STARTED -> WORKER_MODEL_LOADED"  # the worker loaded the handler: requests go to it
RETRY = "Retry worker: 9000 in"  # the frontend restarts a worker that died loading the handler, with a back-off
PREDICT = "/predictions/linear"
GOOD = json.dumps({"instances": [1, 2]})
BAD = json.dumps({"instances": ["boom"]})


def _scenario(key: str, handler: str, port: int, before: str = "", second: str = "", **kw: object) -> Scenario:
    """`before`: a shell command run before serve.sh (the fault put in on purpose); `second`: the handler of a second
    model (`boosted`) served beside `linear`."""
    start = f"{before} && " if before else ""
    files = {f"/app/{h}": h for h in (handler, second) if h}
    command = ("/bin/sh", "-c", f"{start}exec /bin/sh /app/serve.sh {handler} {port} {second}")
    return Scenario("torchserve", key, command, {**files, "/app/serve.sh": "serve.sh"}, workdir="/home/model-server",
                    port=port, timeout=180, **kw)  # type: ignore[arg-type]


SCENARIOS = [
    _scenario("healthy", "handler.py", 5371, ready=READY, requests=(Request(PREDICT, GOOD, 3),), until=""),
    # TorchServe answers 503 when the handler raises (its worker logs `Invoking custom service failed.`)
    _scenario("handler-raises", "handler.py", 5376, ready=READY,
              requests=(Request(PREDICT, BAD, 4), Request(PREDICT, GOOD, 1)), until="",
              expect=Expect("scoring-error", {"failures": 4, "exception": "ValueError"},
                            cause=("handler.py", "HTTP 503"), fix=("preprocess()",))),
    # the handler module's own import fails; TorchServe then tries it as a built-in handler (a second, chained
    # `No module named 'ts.torch_handler.handler_importerr'`), which is not the module to install
    _scenario("import-error", "handler_importerr.py", 5381, until=RETRY, until_count=2,
              expect=Expect("missing-python-module", {"module": "xgboost", "modules": ["xgboost"]}, fix=("xgboost",))),
    _scenario("model-path", "handler.py", 5386, env={"WEIGHTS": "v2/weights.pt"}, until=RETRY, until_count=2,
              expect=Expect("init-failure", {"ts_model": "linear", "exception": "FileNotFoundError"},
                            cause=("v2/weights.pt",), fix=("/handler.py line ",))),
    # an image built without a package TorchServe's own worker imports (pyyaml is not among its declared
    # dependencies): the fault is the package removed before the server starts
    _scenario("server-dependency", "handler.py", 5391,
              before="rm -rf /usr/local/lib/python3.11/dist-packages/yaml", until=RETRY, until_count=2,
              expect=Expect("missing-python-module", {"module": "yaml"}, cause=("installed package `ts`",),
                            fix=("pyyaml",))),
    # the worker is killed by the kernel while initialize() fills its memory: TorchServe logs `Load model failed:
    # linear, error: Worker died.` (and a Java InterruptedException of its monitor thread) and retries
    _scenario("memory-limit", "handler.py", 5401, env={"MODEL_MB": "900"}, memory=800 * MiB,
              until="oom-event", until_count=2,
              expect=Expect("worker-oom", {"memory_limit_bytes": 800 * MiB}, fix=("default_workers_per_model",))),
    _scenario("optional", "handler_optional.py", 5396, ready=READY, requests=(Request(PREDICT, GOOD, 3),), until=""),
    # two models: `linear` loads and serves, `boosted`'s handler fails its import and its worker is retried;
    # `linear`'s WORKER_MODEL_LOADED may come before or after `boosted`'s error (it hid missing-python-module until
    # its guard read the worker's name on both lines); the finding names the model
    _scenario("multi-model", "handler.py", 5418, second="handler_importerr.py", until="Load model failed: boosted",
              until_count=2,
              expect=Expect("missing-python-module", {"module": "xgboost", "ts_model": "boosted"},
                            cause=("model `boosted`",), fix=("xgboost",))),
]
