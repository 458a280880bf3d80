"""The live Docker collector against real misbehaving scenario containers."""

# ruff: noqa: F811  (pytest fixtures imported from docker_fixtures are parameters here)
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from docker_fixtures import docker_client, driven, lone_scenario, scenarios, scratch  # noqa: F401  (fixtures, used by name)
from docker_scenarios import IMAGE, PREFIX, RETRIES, Driven, MiB, Scenario, drive, logs, remove, wait_for
from doctor.collect.docker import collect_docker, collect_docker_raw, evidence_from_raw, write_docker_bundle
from doctor.errors import InputError, UnreachableError
from doctor.evidence import Evidence

pytestmark = pytest.mark.docker


def _log_text(evidence: Evidence, name: str = "logs.txt") -> str:
    source = next(s for s in evidence.logs if s.name.endswith(name))
    with source.open() as stream:
        return stream.read().decode("utf-8", "replace")


def _reasons(evidence: Evidence) -> list[str]:
    return [event.reason for event in evidence.events]


@pytest.mark.parametrize("lone_scenario", ["bootloop"], indirect=True)
def test_worker_boot_loop_under_memory_limit(docker_client: Any, lone_scenario: Scenario) -> None:
    s = drive(docker_client, lone_scenario).scenario
    evidence = collect_docker(s.name, None)
    state = evidence.states[0]
    assert (state.status, state.oom_killed, state.memory_limit_bytes) == ("running", False, 160 * MiB)
    text = _log_text(evidence)
    assert text.count("Booting worker with pid") >= 4
    assert "was terminated due to signal 9" in text
    assert "oom" in _reasons(evidence)
    assert evidence.target.kind == "docker" and evidence.target.name == s.name


def test_main_process_oom_killed(driven: Callable[[str], Driven]) -> None:
    s = driven("main-oom").scenario
    evidence = collect_docker(s.name, None)
    state = evidence.states[0]
    assert (state.status, state.exit_code, state.oom_killed, state.reason) == ("exited", 137, True, "OOMKilled")
    assert state.memory_limit_bytes == 160 * MiB
    assert {"oom", "die"} <= set(_reasons(evidence))
    assert "Invoking user's init function" in _log_text(evidence)


def test_init_raising_restarts_under_policy(driven: Callable[[str], Driven]) -> None:
    s = driven("init-raise").scenario
    evidence = collect_docker(s.name, None)
    state = evidence.states[0]
    assert (state.restart_count, state.restart_policy, state.exit_code) == (RETRIES, "on-failure", 3)
    text = _log_text(evidence)
    assert "User's init function failed" in text and "Reason: Worker failed to boot." in text
    assert 'score_init_raise.py", line 9, in init' in text
    assert "RuntimeError: FEATURE_STORE_URL is not set" in text
    assert _reasons(evidence).count("die") == RETRIES + 1


def test_model_path_missing_lists_model_folder(driven: Callable[[str], Driven]) -> None:
    s = driven("model-missing").scenario
    evidence = collect_docker(s.name, None)
    assert (evidence.states[0].status, evidence.states[0].exit_code) == ("exited", 3)
    text = _log_text(evidence)
    assert "No such file or directory: '/var/azureml-app/azureml-models/sklearn-model/2/model.pkl'" in text
    listing = _log_text(evidence, "model-dir.txt").splitlines()
    assert "/var/azureml-app/azureml-models/sklearn-model/1/model.pkl" in listing
    assert "/var/azureml-app/azureml-models/sklearn-model/1/" in listing
    assert not any("/2" in line for line in listing)
    assert not evidence.collector_errors


def test_missing_python_module(driven: Callable[[str], Driven]) -> None:
    s = driven("no-module").scenario
    evidence = collect_docker(s.name, None)
    assert evidence.states[0].exit_code == 3
    assert "ModuleNotFoundError: No module named 'xgboost'" in _log_text(evidence)
    assert not any(s.name.endswith("model-dir.txt") for s in evidence.logs)


def test_run_raising_gives_500s(driven: Callable[[str], Driven]) -> None:
    done = driven("run-raise")
    s = done.scenario
    assert done.statuses == [500] * 5 + [200] * 2
    evidence = collect_docker(s.name, None)
    text = _log_text(evidence)
    assert text.count("Encountered Exception: Traceback") == 5
    assert len(re.findall(r'"POST /score HTTP/1.1" 500 ', text)) == 5
    assert "ValueError: could not convert string to float: 'boom'" in text
    assert evidence.states[0].status == "running"


def test_run_slower_than_worker_timeout(driven: Callable[[str], Driven]) -> None:
    done = driven("slow-run")
    s = done.scenario
    assert done.statuses[0] in (0, 500, 502)  # the worker is aborted: no proper answer
    evidence = collect_docker(s.name, None)
    text = _log_text(evidence)
    assert re.search(r"C \[1\] gunicorn.error - WORKER TIMEOUT \(pid:\d+\)", text)
    assert text.count("Booting worker with pid") >= 2


def test_burst_against_capped_server_gives_503s(driven: Callable[[str], Driven]) -> None:
    done = driven("overload")
    s, statuses = done.scenario, done.statuses
    assert statuses.count(503) >= 10 and statuses.count(200) >= 1
    evidence = collect_docker(s.name, None)
    text = _log_text(evidence)
    assert len(re.findall(r"azmlinfsrv - POST /score 503 ", text)) == statuses.count(503)
    assert len(re.findall(r'"POST /score HTTP/1.1" 503 ', text)) == statuses.count(503)


def test_healthy_service(driven: Callable[[str], Driven]) -> None:
    done = driven("healthy")
    s = done.scenario
    assert done.statuses == [200] * 3
    evidence = collect_docker(s.name, None)
    state = evidence.states[0]
    assert (state.status, state.oom_killed, state.restart_count) == ("running", False, 0)
    text = _log_text(evidence)
    assert "Traceback" not in text and text.count("POST /score 200") == 3
    assert "oom" not in _reasons(evidence) and not evidence.collector_errors


def test_secrets_redacted_in_state_and_bundle(driven: Callable[[str], Driven], tmp_path: Path) -> None:
    s = driven("healthy").scenario
    raw = collect_docker_raw(s.name, None)
    env = dict(evidence_from_raw(raw).states[0].env)
    assert env["AML_APP_INSIGHTS_KEY"] == "***REDACTED***"
    assert "c2VjcmV0a2V5" not in env["STORAGE_CONNECTION_STRING"]
    assert env["AZUREML_MODEL_DIR"].endswith("sklearn-model/1")
    written = write_docker_bundle(raw, tmp_path)
    base = tmp_path / "docker" / s.name
    assert {p.name for p in written} >= {"inspect.json", "logs.txt", "events.json"}
    dumped = "".join(p.read_text() for p in base.iterdir())
    assert "c2VjcmV0a2V5" not in dumped and "44444444" not in dumped
    assert json.loads((base / "inspect.json").read_text())[0]["Name"] == f"/{s.name}"
    assert all(json.loads(line)["Type"] for line in (base / "events.json").read_text().splitlines())


def test_since_window_and_log_cap(docker_client: Any, scratch: list[str]) -> None:
    name = PREFIX + "chatty"
    scratch.append(name)
    remove(docker_client, name)
    script = "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; sleep 2; echo late-line; sleep 300"
    docker_client.containers.run("mldoctor-test-busybox:1", ["sh", "-c", script], name=name, detach=True,
                                 network_mode="none")
    wait_for(lambda: "late-line" in logs(docker_client, name), 30, "late line")
    everything = _log_text(collect_docker(name, None))
    assert everything.count("\n") == 3001 and re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z line 0\n", everything)
    started = docker_client.api.inspect_container(name)["State"]["StartedAt"]
    windowed = _log_text(collect_docker(name, _after_burst(started)))
    assert "late-line" in windowed and "line 0\n" not in windowed
    seen: list[int] = []
    capped = collect_docker(name, None, log_cap_bytes=4096, progress=lambda done, total: seen.append(done))
    text = _log_text(capped)
    assert 0 < len(text) <= 4096 and text.endswith("late-line\n") and re.match(r"\S+Z line \d+\n", text)
    assert seen[-1] == len(everything) and "only the last" in capped.notes[0]


def _after_burst(started: str) -> datetime:
    """One second after the container started: past the 3000-line burst, before the late line."""
    from doctor.convert import parse_time

    start = parse_time(started)
    assert start is not None
    return start + timedelta(seconds=1.2)


def test_not_found_lists_similar_names(docker_client: Any, scenarios: dict[str, Scenario]) -> None:
    with pytest.raises(InputError) as info:
        collect_docker(PREFIX + "helthy", None)
    assert info.value.exit_code == 2 and PREFIX + "healthy" in str(info.value)


def test_unreachable_engine_says_how_to_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    with pytest.raises(UnreachableError) as info:
        collect_docker("anything", None)
    message = str(info.value)
    assert info.value.exit_code == 3
    assert "docker run hello-world" in message and "DOCKER_HOST" in message and "socket" in message


def test_collector_is_read_only(docker_client: Any, driven: Callable[[str], Driven]) -> None:
    """Collecting changes nothing: same state, same restart count, no exec sessions, no new events but reads."""
    s = driven("healthy").scenario
    before = docker_client.api.inspect_container(s.name)
    since = datetime.now(timezone.utc)
    collect_docker(s.name, None)
    after = docker_client.api.inspect_container(s.name)
    assert before["State"] == after["State"] and before["RestartCount"] == after["RestartCount"]
    assert not after.get("ExecIDs")
    actions = [e["Action"] for e in docker_client.api.events(
        since=int(since.timestamp()), until=int(datetime.now(timezone.utc).timestamp()) + 1,
        filters={"container": after["Id"]}, decode=True)]
    assert not [a for a in actions if not a.startswith(("exec_", "archive-path")) and a != "attach"], actions
    assert not [a for a in actions if a.startswith("exec_")]


def test_image_is_local(docker_client: Any) -> None:
    assert docker_client.images.get(IMAGE).id


def test_sdk_transport_gives_the_same_log(docker_client: Any, scratch: list[str],
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fallback path (TCP/TLS hosts go through the SDK session) reads the same bytes; bundle logs are redacted."""
    from doctor.collect import docker as collector

    name = PREFIX + "secrets"
    scratch.append(name)
    remove(docker_client, name)
    script = ("echo 'conn DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;'; "
              "echo 'GET https://acct.blob.core.windows.net/m/model.pkl?sv=2022&sig=QUJDRA%3D'; "
              "echo 'Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln' >&2; echo done")
    docker_client.containers.run("mldoctor-test-busybox:1", ["sh", "-c", script], name=name, detach=True,
                                 network_mode="none").wait()
    fast = _log_text(collect_docker(name, None))
    monkeypatch.setattr(collector, "_unix_socket_path", lambda client: None)
    raw = collector.collect_docker_raw(name, None)
    assert _log_text(evidence_from_raw(raw)) == fast and fast.count("\n") == 4
    write_docker_bundle(raw, tmp_path)
    dumped = (tmp_path / "docker" / name / "logs.txt").read_text()
    assert dumped.count("\n") == 4 and "done" in dumped
    for secret in ("c2VjcmV0", "QUJDRA", "eyJhbGciOi"):
        assert secret not in dumped
