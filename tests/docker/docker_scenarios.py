"""Scenario containers that really misbehave: real gunicorn + Flask + an Azure-ML-style score.py.

Each scenario is created from the locally built `mldoctor-test-py:1` image (see `.ci/docker.sh`),
gets the app and score scripts copied in under /var/azureml-app, listens on its own loopback port
(`--network host`), and is then driven (requests, bursts) until it shows its behaviour.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from containers import logs, remove, wait_for

IMAGE = "mldoctor-test-py:1"
BUSYBOX = "mldoctor-test-busybox:1"
# Another run on the same engine (a second checkout) sets both, so names and loopback ports do not collide.
PREFIX = os.environ.get("MLDOCTOR_TEST_PREFIX", "mldoctor-t-")
PORT_BASE = int(os.environ.get("MLDOCTOR_TEST_PORT_BASE", "5100"))
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "docker-scenarios"
APP_ROOT = "/var/azureml-app"
MODEL_DIR_V1 = f"{APP_ROOT}/azureml-models/sklearn-model/1"
MODEL_DIR_V2 = f"{APP_ROOT}/azureml-models/sklearn-model/2"
MiB = 1 << 20
RETRIES = 3  # the restart policy gives up after this many, so the evidence stops changing


@dataclass(frozen=True)
class Scenario:
    """One misbehaving service: how to start it and when it has shown its behaviour."""

    key: str
    script: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    gunicorn_args: tuple[str, ...] = ()
    memory: int | None = None
    restart: str | None = None

    @property
    def name(self) -> str:
        """The container name."""
        return PREFIX + self.key


SCENARIOS = {s.key: s for s in (
    Scenario("bootloop", "score_big_init.py", PORT_BASE + 1, {"MODEL_MB": "400"}, memory=160 * MiB),
    Scenario("main-oom", "score_big_init.py", PORT_BASE + 2, {"MODEL_MB": "400", "WORKER_PRELOAD": "true"},
             ("--preload",), memory=160 * MiB),
    Scenario("init-raise", "score_init_raise.py", PORT_BASE + 3, restart="on-failure"),
    Scenario("model-missing", "score_ok.py", PORT_BASE + 4, {"AZUREML_MODEL_DIR": MODEL_DIR_V2}),
    Scenario("no-module", "score_importerr.py", PORT_BASE + 5),
    Scenario("run-raise", "score_ok.py", PORT_BASE + 6),
    Scenario("slow-run", "score_slow.py", PORT_BASE + 7, {"RUN_SECONDS": "8", "WORKER_TIMEOUT": "2"}, ("--timeout", "2")),
    Scenario("overload", "score_slow.py", PORT_BASE + 8,
             {"RUN_SECONDS": "1", "MAX_CONCURRENT_REQUESTS_PER_CONTAINER": "1", "MAX_QUEUE_WAIT_MS": "100"},
             ("--worker-class", "gthread", "--threads", "12")),
    Scenario("healthy", "score_ok.py", PORT_BASE + 9),
)}


def app_tar() -> bytes:
    """The app, the score scripts and a small pickled model (version 1 only), as `azureml-app/...`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(FIXTURES.glob("*.py")):
            tar.add(path, arcname=f"azureml-app/{path.name}")
        model = pickle.dumps({"w": 2.0, "b": 0.5})
        info = tarfile.TarInfo("azureml-app/azureml-models/sklearn-model/1/model.pkl")
        info.size = len(model)
        tar.addfile(info, io.BytesIO(model))
    return buf.getvalue()


def create(client: Any, scenario: Scenario, tar: bytes) -> Any:
    """Create and start the scenario's container (any leftover of the same name is removed first)."""
    remove(client, scenario.name)
    env = {"AZUREML_ENTRY_SCRIPT": f"{APP_ROOT}/{scenario.script}", "AZUREML_MODEL_DIR": MODEL_DIR_V1,
           "PYTHONUNBUFFERED": "1", "WORKER_COUNT": "1",
           # secrets a real deployment carries: they must come out redacted
           "AML_APP_INSIGHTS_KEY": "00000000-1111-2222-3333-444444444444",
           "STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;",
           **scenario.env}
    command = ["gunicorn", "-c", f"{APP_ROOT}/gunicorn_conf.py", "-b", f"127.0.0.1:{scenario.port}", "-w", "1",
               "--chdir", APP_ROOT, *scenario.gunicorn_args, "app:app"]
    kwargs: dict[str, Any] = {}
    if scenario.memory:
        kwargs.update(mem_limit=scenario.memory, memswap_limit=scenario.memory)
    if scenario.restart:
        kwargs["restart_policy"] = {"Name": scenario.restart, "MaximumRetryCount": RETRIES}
    container = client.containers.create(IMAGE, command, name=scenario.name, environment=env, network_mode="host",
                                         working_dir=APP_ROOT, labels={"mldoctor-test": "1"}, **kwargs)
    container.put_archive("/var", tar)
    container.start()
    return container


def wait_ready(client: Any, scenario: Scenario, timeout: float = 60) -> None:
    """Wait until the worker logged that it serves traffic."""
    wait_for(lambda: "ready for serving traffic" in logs(client, scenario.name), timeout,
             f"{scenario.name} to serve traffic")


def post(port: int, body: str, timeout: float = 10) -> int:
    """POST /score; the HTTP status, or 0 when the connection broke without an answer."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/score", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0


def burst(port: int, count: int, body: str = '{"data": [1]}') -> list[int]:
    """`count` concurrent POSTs at once; their statuses."""
    statuses: list[int] = [0] * count
    gate = threading.Barrier(count)

    def one(i: int) -> None:
        gate.wait()
        statuses[i] = post(port, body, timeout=20)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


GOOD = json.dumps({"data": [1, 2, 3]})
BAD = json.dumps({"data": ["boom"]})


@dataclass
class Driven:
    """What a scenario was put through: the HTTP statuses its clients saw."""

    scenario: Scenario
    statuses: list[int] = field(default_factory=list)


def _exited(client: Any, name: str) -> Callable[[], bool]:
    return lambda: client.api.inspect_container(name)["State"]["Status"] == "exited"


def _gave_up(client: Any, name: str) -> bool:
    """True once the restart policy has used its retries and the container stays exited."""
    obj = client.api.inspect_container(name)
    return bool(obj["RestartCount"] >= RETRIES and obj["State"]["Status"] == "exited")


def drive(client: Any, s: Scenario) -> Driven:
    """Put the scenario through its misbehaviour and wait until it shows (once per container)."""
    done = Driven(s)
    if s.key == "bootloop":
        wait_for(lambda: logs(client, s.name).count("Booting worker with pid") >= 4, 60, "repeated boots")
    elif s.key in ("main-oom", "model-missing", "no-module"):
        wait_for(_exited(client, s.name), 60, f"{s.name} to exit")
    elif s.key == "init-raise":
        wait_for(lambda: _gave_up(client, s.name), 90, f"{RETRIES} restarts, then exit")
    elif s.key == "run-raise":
        wait_ready(client, s)
        done.statuses = [post(s.port, BAD) for _ in range(5)] + [post(s.port, GOOD) for _ in range(2)]
    elif s.key == "slow-run":
        wait_ready(client, s)
        done.statuses = [post(s.port, GOOD, timeout=15)]
        wait_for(lambda: logs(client, s.name).count("Booting worker with pid") >= 2, 20, "WORKER TIMEOUT, reboot")
    elif s.key == "overload":
        wait_ready(client, s)
        done.statuses = burst(s.port, 16)
    elif s.key == "healthy":
        wait_ready(client, s)
        done.statuses = [post(s.port, GOOD) for _ in range(3)]
    return done
