"""Pasted evidence (kubectl describe/get text, logs split by headers, deploy and client output), recognised by content
and read into the same records as the JSON bundle. Texts are real: tests/data/pasted/SOURCES.md says where each is from.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from doctor.collect import client_output, deploy_output
from doctor.traffic.parse import parse_line
from doctor.collect.paste_split import split
from doctor.collect.pasted import open_pasted, read_file
from doctor.evidence import Evidence, Target

DATA = Path(__file__).parent / "data" / "pasted"
ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "fixtures" / "corpus"


def _read(path: Path, place: str = "pasted") -> Evidence:
    evidence = Evidence(Target("bundle", "test"))
    read_file(path, f"{place}/{path.name}", place, evidence)
    return evidence


def _check_json(target: Path, *extra: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(target), "--format", "json", *extra],
                          capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, json.loads(proc.stdout)


def _first(report: dict) -> tuple[str, str, dict]:
    finding = report["findings"][0]
    return finding["rule_id"], finding["severity"], finding["values"]


# --- kubectl describe -----------------------------------------------------------------------------


def test_describe_pod_2015_tabbed_layout() -> None:
    evidence = _read(DATA / "k8s-10861-describe-pod-2015.txt")
    [state] = evidence.states
    assert (state.pod, state.container, state.status) == ("simmemleak-hra99", "simmemleak", "running")
    assert (state.restart_count, state.memory_limit_bytes, state.cpu_limit) == (5, 50 * 2**20, 0.1)
    assert state.image == "saadali/simmemleak" and state.phase == "Running"
    [event] = evidence.events
    assert (event.reason, event.object_name, event.count) == ("scheduled", "simmemleak-hra99", 1)
    assert event.first_time == datetime.fromisoformat("2015-07-07T12:53:51-07:00")


def test_describe_container_fragment_oomkilled() -> None:
    [state] = _read(DATA / "kube-eventer-285-oomkilled-fragment.txt").states
    assert (state.status, state.reason, state.restart_count) == ("waiting", "CrashLoopBackOff", 3)
    assert (state.last_reason, state.last_exit_code) == ("OOMKilled", 1)
    assert state.last_finished_at == datetime.fromisoformat("2024-01-04T17:52:49+08:00")


def test_a_container_block_pasted_without_its_pod_keeps_its_name_image_and_resources() -> None:
    # SeldonIO/seldon-core#1676 as posted: `  tfserving:` then `Container ID: docker://…`, Image, Args, State: the whole
    # block is the container's (it was read from its State line on, unnamed, without its image or its args)
    case = CORPUS / "k-seldon-tfserving-hpa-missing-request-for-cpu-implicit-tfserving-container-no-requests"
    [state] = _read(case / "pasted/kubectl-describe-pod.tfserving-container.excerpt.txt").states
    assert (state.container, state.pod, state.image) == ("tfserving", "(unnamed pod)", "tensorflow/serving:latest")
    assert state.command[:2] == ("/usr/bin/tensorflow_model_server", "--port=2000")
    assert (state.status, state.cpu_request, state.memory_request_bytes) == ("running", None, None)


def test_a_container_id_line_without_a_name_line_before_it_still_opens_the_block() -> None:
    text = (b"some log line\n"
            b"    Container ID:  containerd://0123abcd\n"
            b"    Image:         example/server:1\n"
            b"    State:          Waiting\n"
            b"      Reason:       CrashLoopBackOff\n"
            b"    Restart Count:  4\n")
    kinds = [(p.kind, p.first_line) for p in split(__import__("io").BytesIO(text))]
    assert kinds == [("log", 1), ("describe", 2)]


def test_a_redirect_keeps_where_it_sends_the_call_without_its_query() -> None:
    # kserve/kserve#2169 as posted: `< HTTP/1.1 302 Found` and `< location: /dex/auth?client_id=…&state=…`
    case = CORPUS / "k-kserve-kubeflow-curl-predict-302-found-dex-auth-no-authservice-session"
    [fact] = [c for c in _read(case / "client/curl-v-predict.txt", "client").configs if c.kind == "client-output"]
    assert fact.values["statuses"] == [302]  # (`< HTTP/1.1 100 Continue` before it is an interim answer, not one)
    assert fact.values["answers"][-1]["headers"]["location"] == "/dex/auth"  # the state token is not kept


@pytest.mark.parametrize("case, statuses", [
    # mlflow/mlflow#4313: `curl: (6) Could not resolve host: format=pandas-split'`, then MLflow's 415 body
    ("k-mlflow-models-serve-windows-curl-single-quotes-content-type-form-urlencoded", [415]),
    # tensorflow/serving#1704: `curl: (6) Could not resolve host: 2.0,` and globbing errors, no status at all
    ("k-tfserving-healthy-control-windows-cmd-curl-single-quotes-globbing-json-parse-error-half-plus-two-loaded", None),
])
def test_curl_resolving_pieces_of_its_own_command_line_is_no_call_without_an_answer(case: str, statuses: Any) -> None:
    text = (CORPUS / case / "client/curl-output.txt").read_text()
    assert client_output.split_command(text)
    facts = [c for c in _read(CORPUS / case / "client/curl-output.txt", "client").configs if c.kind == "client-output"]
    assert [f.values["statuses"] for f in facts] == ([statuses] if statuses else [])


@pytest.mark.parametrize("line", ["curl: (6) Could not resolve host: scorer.example.com",
                                  "curl: (6) Could not resolve host: my-endpoint.westeurope.inference.ml.azure.com",
                                  "curl: (6) Could not resolve host: localhost"])
def test_curl_not_resolving_a_real_host_name_is_still_a_call_without_an_answer(line: str) -> None:
    assert not client_output.split_command(line)
    [answer] = client_output.answers(line)
    assert answer.status == 0


def test_the_az_clis_own_error_line_for_an_invoke_is_a_failed_call() -> None:
    # MicrosoftLearning/mslearn-aml-cli#4: `Met error <class 'Exception'>:Invalid input format: …` (no status printed)
    case = CORPUS / "a-v2-cli-invoke-mlflow-invalid-input-format-expected-array-of-items-lab04-request-file"
    [fact] = _read(case / "client/az-ml-online-endpoint-invoke.stderr.txt", "client").configs
    assert (fact.kind, fact.values["code"]) == ("client-error", "Exception")
    assert fact.values["message"] == "Invalid input format: expected an array of items."


def test_the_inference_servers_answer_for_a_run_that_raised_printed_alone_is_a_500() -> None:
    # MicrosoftLearning/mslearn-ai-fundamentals#26: Azure ML studio's Test tab, the body only
    case = CORPUS / "a-v2-studio-test-automl-unexpected-error-in-scoring-script-lab-sample-json"
    [fact] = [c for c in _read(case / "client/studio-test-result.txt", "client").configs if c.kind == "client-output"]
    assert fact.values["statuses"] == [500]
    assert fact.values["body"].startswith("An unexpected error occurred in scoring script")


def test_a_log_posted_as_a_string_literal_is_read_as_its_lines() -> None:
    # Azure/azureml-sdk-for-r#361: `service.get_logs()` shown as a string, `Invoking user's init function\nInvoking …`
    case = CORPUS / "a-v1-aks-r-score-init-reticulate-miniconda-prompt-rruntimeerror-missing-value"
    evidence = _read(case / "deploy/get_logs.excerpt.txt", "deploy")
    [log] = evidence.logs
    with log.open() as stream:
        lines = stream.read().decode().splitlines()
    assert lines[:3] == ["Invoking user's init function", "Invoking user's init function",
                         "Would you like to install Miniconda? [Y/n]:"]
    assert '  File "/var/azureml-server/aml_blueprint.py", line 163, in register' in lines


def test_a_log_of_json_records_is_read_as_their_messages_lines() -> None:
    # agatagruza/Microsoft-Open-Hack-AI (2018): a v1 image's get_logs(), one JSON record a line, a traceback inside the
    # `message` of a record whose message is itself a JSON record
    case = CORPUS / "a-v1-aci-2018-json-logger-get-logs-keras-load-model-relative-h5-name-not-found"
    evidence = _read(case / "deploy/get_logs.txt", "deploy")
    [log] = evidence.logs
    assert log.name == "deploy/get_logs.txt (its JSON records' messages)"
    with log.open() as stream:
        lines = stream.read().decode().splitlines()
    assert lines[0] == "2018-12-13T22:56:25,399160286+00:00 - iot-server/run "  # a line that is no record, as it was
    assert "2018-12-13T22:56:25.693640Z INFO gunicorn.error - Starting gunicorn 19.6.0" in lines
    assert "2018-12-13T22:56:29.751276Z ERROR root - User's init function failed" in lines
    assert '  File "score.py", line 12, in init' in lines
    assert lines[lines.index('  File "score.py", line 12, in init') + 1] == "    model = load_model('objectmodelchal5.h5')"
    assert any(line.startswith("OSError: Unable to open file (unable to open file: name = 'objectmodelchal5.h5'")
               for line in lines)


@pytest.mark.parametrize("text", [
    '{"timestamp": "2026-12-05T10:00:00Z", "message": "one line", "level": "INFO"}\n'
    '{"timestamp": "2026-12-05T10:00:01Z", "message": "another", "level": "INFO"}\n',  # no message spans lines
    'json {"msg": "x\\ny"}\n',  # no record: a line that only holds one
    '{"msg": "x\\ny", "broken": }\n',  # no JSON
])
def test_json_records_whose_messages_span_no_lines_are_left_as_they_are(text: str) -> None:
    from doctor.collect.pasted import json_record_log

    assert json_record_log(text) is None


@pytest.mark.parametrize("text", ["one\\ntwo\n", "a real log\nwith a \\n in one line\nand more\n",
                                  'json {"msg": "x\\ny"}\n'])
def test_a_text_with_few_escaped_line_breaks_is_left_as_it_is(text: str) -> None:
    from doctor.collect.pasted import escaped_log

    assert escaped_log(text) is None


def test_the_api_servers_refusal_names_every_field_it_lists() -> None:
    # SeldonIO/seldon-core#694: `[…livenessProbe: Required value: …, …readinessProbe: Required value: …]`
    text = ('error:  "Deployment.apps "trt-sp-sp-nvidia-72d9821" is invalid: [spec.template.spec.containers[1].livenessProbe: '
            'Required value: must specify a handler type, spec.template.spec.containers[1].readinessProbe: Required value: '
            'must specify a handler type]"')
    refused, _ = deploy_output.kube_refusal(text)
    assert refused["invalid"]["fields"] == ["spec.template.spec.containers[1].livenessProbe",
                                            "spec.template.spec.containers[1].readinessProbe"]


def test_a_last_state_block_beside_one_pod_row_is_that_pods() -> None:
    # Azure-Samples/aks-store-demo#192 as posted: a `kubectl get pods -o wide` row, then the `Last State` block alone
    [state] = _read(CORPUS / "k-startup-runc-init-p-reset-memory-limit-too-low/pasted/get-pods-and-describe.excerpt.txt").states
    assert (state.pod, state.reason, state.restart_count) == ("virtual-worker-7d5cdbb7bd-4lhhw", "CrashLoopBackOff", 32)
    assert (state.last_reason, state.last_exit_code) == ("StartError", 128)
    assert state.last_message.endswith("read init-p: connection reset by peer: unknown")


def test_describe_events_table_counts() -> None:
    events = _read(DATA / "k8s-113215-describe-events.txt").events
    assert len(events) == 9
    backoff = [e for e in events if e.reason == "BackOff"]
    assert [(e.type, e.count, e.message) for e in backoff] == [
        ("Warning", 72, "Back-off restarting failed container manager")]
    assert sorted(e.count for e in events if e.reason in ("Created", "Started") and e.count > 1) == [4, 4]


def test_describe_pod_modern_layout_probes_and_events() -> None:
    evidence = _read(CORPUS / "k-crashloop-oomkilled-100mi" / "pasted" / "kubectl-describe-pod.txt")
    [state] = evidence.states
    assert (state.pod, state.container) == ("analytics-exporter-fast-76897854c-cw5wh", "memory-eater")
    assert (state.last_reason, state.last_exit_code, state.memory_limit_bytes) == ("OOMKilled", 137, 100 * 2**20)
    assert state.command == ("80Mi", "0", "100Mi", "10", "1")
    assert {e.reason: e.count for e in evidence.events}["BackOff"] == 23


def test_liveness_probe_line() -> None:
    [state] = _read(CORPUS / "k-oomkilled-300mi-limit" / "pasted" / "describe-pod-300Mi.txt").states
    [probe] = state.probes
    assert (probe.kind, probe.initial_delay, probe.timeout, probe.period, probe.failure_threshold) == (
        "liveness", 0, 1, 10, 3)
    assert state.env == (("AWS_REGION", "us-east-1"),)


# --- tables --------------------------------------------------------------------------------------


def test_get_pods_table() -> None:
    states = _read(DATA / "k8s-17460-get-pods-2015.txt").states
    assert [(s.container, s.reason, s.restart_count, s.ready) for s in states] == [
        ("elasticsearch-attiy", "CrashLoopBackOff", 25, False), ("elasticsearch-lkl4i", "CrashLoopBackOff", 25, False),
        ("frontend-81lqv", None, 0, True), ("frontend-ddanc", None, 0, True)]


def test_get_pods_table_is_not_deploy_output() -> None:
    """`Running` and `CrashLoopBackOff` in a pod table do not make it the output of a deploy command."""
    assert not [c for c in _read(DATA / "k8s-17460-get-pods-2015.txt").configs if c.kind == "deploy-output"]


# --- deploy and client output ----------------------------------------------------------------------


@pytest.mark.parametrize("name, codes, state", [
    ("aml-808-v1-deployment-timed-out.txt", ["DeploymentTimedOut"], "Unhealthy"),
    ("mlopspython-258-az-ml-model-deploy.txt", ["DeploymentTimedOut"], "Unhealthy"),
    ("mlops-v2-120-resource-not-ready.txt", ["ResourceNotReady"], None),
    ("mslearn-41-v2-sdk-resource-not-ready.txt", ["ResourceNotReady"], None),
])
def test_deploy_output_codes(name: str, codes: list[str], state: str | None) -> None:
    for place in ("deploy", "pasted"):
        evidence = _read(DATA / name, place)
        [fact] = [c for c in evidence.configs if c.kind == "deploy-output"]
        assert fact.values["error_codes"] == codes and fact.values["state"] == state and fact.values["failed"]
        assert evidence.logs, "the deploy output is also scanned as a log"


def test_deploy_output_liveness_text_reaches_log_rules() -> None:
    code, report = _check_json(DATA / "mlops-v2-120-resource-not-ready.txt")
    assert code == 1 and report["findings"][0]["rule_id"] == "probe-failure"


def test_management_api_504_is_not_a_scoring_answer() -> None:
    """`Received bad response from Model Management Service: Response Code: 504` is the deploy API, not /score."""
    text = (DATA / "mlopspython-165-management-504.txt").read_text()
    assert client_output.answers(text) == []
    assert not [s for s in _read(DATA / "mlopspython-165-management-504.txt").logs if s.kind == "access"]


def test_deploy_output_in_config_still_read_as_deploy_output(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(DATA / "aml-808-v1-deployment-timed-out.txt", tmp_path / "config" / "deploy.log")
    from doctor.bundle import read_bundle_dir

    evidence = read_bundle_dir(tmp_path, "b")
    assert [c.values["error_codes"] for c in evidence.configs if c.kind == "deploy-output"] == [["DeploymentTimedOut"]]
    assert [s.name for s in evidence.logs] == ["config/deploy.log"]


# --- bundle places, single file, --evidence ---------------------------------------------------------


def test_bundle_places_read_by_content(tmp_path: Path) -> None:
    for place, name in (("pasted", "kube-eventer-285-oomkilled-fragment.txt"),
                        ("deploy", "mlops-v2-120-resource-not-ready.txt"), ("client", "k8s-17460-get-pods-2015.txt")):
        (tmp_path / place).mkdir()
        shutil.copy(DATA / name, tmp_path / place / name)
    (tmp_path / "pasted" / "empty.txt").write_text("")
    code, report = _check_json(tmp_path)
    assert code == 1 and report["status"] == "failing"
    from doctor.bundle import read_bundle_dir

    evidence = read_bundle_dir(tmp_path, "b")
    assert [s.last_reason for s in evidence.states] == ["OOMKilled"]
    assert any(c.kind == "deploy-output" for c in evidence.configs)
    assert "pasted/empty.txt: not used: empty" in evidence.notes
    assert any(n.startswith("client/k8s-17460-get-pods-2015.txt: not used: no HTTP answer") for n in evidence.notes)


def test_evidence_option_adds_pasted_text(tmp_path: Path) -> None:
    (tmp_path / "traffic").mkdir()
    code, report = _check_json(tmp_path, "--evidence", str(DATA / "kube-eventer-285-oomkilled-fragment.txt"))
    assert code == 1 and report["findings"][0]["rule_id"] == "oom-killed"


def test_unreadable_evidence_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "traffic").mkdir()
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(tmp_path), "--evidence", str(tmp_path / "nope")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "nope" in proc.stderr


# --- the same finding from a paste as from the JSON bundle -----------------------------------------


def _paste(tmp_path: Path, pod: str, describe: Path, previous: Path | None) -> Path:
    """A ticket-style paste: `$ kubectl describe pod` output, then `$ kubectl logs --previous` output (both verbatim;
    the two command lines are ours)."""
    text = f"$ kubectl describe pod {pod}\n" + describe.read_text()
    if previous is not None:
        text += f"\n$ kubectl logs {pod} --previous\n" + previous.read_text()
    path = tmp_path / "paste.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case, pod, describe, previous", [
    ("05_crashpod-bundle", "db-certs-authenticator-757f89d977-4qfst", DATA / "holmesgpt" / "05_crashpod-describe.txt",
     DATA / "holmesgpt" / "05_crashpod-logs.txt"),
    ("01_oom_kill-bundle", "analytics-exporter-fast-76897854c-cw5wh",
     CORPUS / "k-crashloop-oomkilled-100mi" / "pasted" / "kubectl-describe-pod.txt", None),
])
def test_paste_gives_the_same_finding_as_the_json_bundle(tmp_path: Path, case: str, pod: str, describe: Path,
                                                         previous: Path | None) -> None:
    paste = _paste(tmp_path, pod, describe, previous)
    code_json, from_json = _check_json(DATA / "holmesgpt" / case)
    code_text, from_text = _check_json(paste)
    assert code_json == code_text == 1
    assert _first(from_text) == _first(from_json)
    assert [f["rule_id"] for f in from_text["findings"]] == [f["rule_id"] for f in from_json["findings"]]


def test_paste_splits_describe_and_previous_log(tmp_path: Path) -> None:
    pod = "db-certs-authenticator-757f89d977-4qfst"
    paste = _paste(tmp_path, pod, DATA / "holmesgpt" / "05_crashpod-describe.txt", DATA / "holmesgpt" / "05_crashpod-logs.txt")
    evidence = open_pasted(paste)
    [log] = evidence.logs
    assert (log.container, log.previous) == (pod, True)
    assert log.open().read() == (DATA / "holmesgpt" / "05_crashpod-logs.txt").read_bytes()
    assert [(s.pod, s.restart_count, s.last_exit_code) for s in evidence.states] == [(pod, 52, 1)]


def test_split_by_tail_headers_and_commands() -> None:
    import io

    text = (b"==> scorer.previous.log <==\nTraceback (most recent call last):\n\n==> scorer.log <==\nBooting worker\n"
            b"$ kubectl logs scorer-1 -c server -p\nlast words\n")
    parts = split(io.BytesIO(text))
    assert [(p.container, p.previous, p.pod) for p in parts] == [
        ("scorer.previous.log", True, ""), ("scorer.log", False, ""), ("server", True, "scorer-1")]


def test_a_docker_run_line_opens_the_log_of_its_output_and_stays_in_it() -> None:
    """`docker run IMAGE /script.sh` then what it printed: the output is the container's log, and the command line
    (its image, script and flags, which rules read: exec-format-error names the script) is that log's first line. A
    file holding the command line alone is a one-line log, not a file "not used"."""
    import io

    text = (b"$ docker run --rm --name scorer -p 8001:8001 img:1 /workspace/serve.sh --port 8001\n"
            b'standard_init_linux.go:211: exec user process caused "exec format error"\n'
            b"$ kubectl logs scorer-1\nlast words\n")
    parts = split(io.BytesIO(text))
    assert [(p.kind, p.container, p.first_line, p.last_line) for p in parts] == [
        ("log", "scorer", 1, 2), ("log", "", 4, 4)]
    assert text[parts[0].start:parts[0].end].startswith(b"$ docker run --rm --name scorer")
    assert [p.first_line for p in split(io.BytesIO(b"podman run img /serve.sh\n"))] == [1]


def test_a_docker_exec_line_is_the_log_of_the_program_it_runs() -> None:
    """`docker exec CONTAINER PROGRAM` prints the program's output, maybe on the command's own line (a terminal's
    progress bar pasted as one line: fcori47/basdonax-ai-rag#1, verbatim, in the corpus): it is that container's log,
    the command line included; a `kubectl get` line still opens a part of its own."""
    import io

    line = (ROOT / "fixtures/corpus/k-docker-ollama-pull-llama3-no-space-left-on-device-3-9gb-volume-ollama-models"
            / "pasted/ollama-pull.txt").read_bytes()
    parts = split(io.BytesIO(line))
    assert [(p.kind, p.container, p.first_line) for p in parts] == [("log", "CONTAINERID", 1)]
    assert line[parts[0].start:parts[0].end].rstrip().endswith(b"no space left on device")
    text = b"$ docker exec -it ollama ollama list\nNAME  ID  SIZE\n$ kubectl get pods\nNAME READY STATUS RESTARTS AGE\n"
    assert [(p.kind, p.container) for p in split(io.BytesIO(text))][0] == ("log", "ollama")


def test_a_pasted_bug_report_is_no_sign_of_a_running_service(tmp_path: Path) -> None:
    """A bug report's prose (an issue template's headings, no log line: Azure/azure-sdk-for-python#28697, verbatim, in
    the corpus) is read by the rules but is no evidence that the service runs: with nothing else the status is
    unknown (exit 3), not healthy, and a note says why; the same text with a log line in it is a log."""
    from doctor.collect.pasted import is_report_prose

    case = ROOT / "fixtures/corpus/a-v2-k8s-504-at-5000ms-request-timeout-16000-ignored-reinstall-k8s-extension"
    prose = (case / "pasted/issue-description.excerpt.txt").read_text()
    assert is_report_prose(prose)
    assert not is_report_prose(prose + "\n2026-11-25 15:31:27,556 E [7] azmlinfsrv - Encountered Exception\n")
    assert not is_report_prose("2026-11-25 15:31:27 INFO ready\n")
    code, report = _check_json(case)
    assert code == 3 and report["status"] == "unknown"
    assert any("bug report's text" in note for note in report["notes"])


PASTED_ONE_LINERS = [  # verbatim lines of the corpus that no rule explains (the status must not claim a working service)
    "W0821 08:49:41.251296 104802 server.cc:208] failed to enable peer access for some device pairs\n",  # a control
    "WARNING: sun.reflect.Reflection.getCallerClass is not supported. This will impact performance.\n",  # a control
]


@pytest.mark.parametrize("text", PASTED_ONE_LINERS)
def test_a_pasted_line_that_shows_neither_a_failure_nor_a_working_service_is_unknown(tmp_path: Path, text: str) -> None:
    """A few pasted lines in which no rule finds a failure, and nothing shows the server started or a request answered,
    are `unknown` (exit 3) with a note saying what to paste, not `healthy`: a line mldoctor cannot read says nothing
    either way (four failing services, one line each, were reported healthy). The same lines with the server's start
    line, or in a longer log, or beside a container's state, are read as before."""
    (tmp_path / "pasted").mkdir()
    (tmp_path / "pasted" / "log.txt").write_text(text)
    code, report = _check_json(tmp_path)
    assert (code, report["status"]) == (3, "unknown") and not report["findings"]
    assert any(note.startswith("status unknown: the pasted text shows no failure") for note in report["notes"])
    for more in ("INFO:     Application startup complete.\n", "".join(f"INFO step {i} done\n" for i in range(25))):
        (tmp_path / "pasted" / "log.txt").write_text(text + more)
        code, report = _check_json(tmp_path)
        assert (code, report["status"]) == (0, "healthy"), more[:40]
    (tmp_path / "pasted" / "log.txt").write_text(text)
    (tmp_path / "docker" / "svc").mkdir(parents=True)
    (tmp_path / "docker" / "svc" / "inspect.json").write_text(json.dumps(
        [{"Name": "/svc", "State": {"Status": "running", "Running": True, "ExitCode": 0, "OOMKilled": False,
                                    "StartedAt": "2026-11-25T15:00:00Z"}, "RestartCount": 0}]))
    code, report = _check_json(tmp_path)
    assert (code, report["status"]) == (0, "healthy")


def test_an_openai_completion_printed_without_its_status_line_is_a_200() -> None:
    """curl printing a vLLM chat completion's body with no `-i` (corpus control k-vllm-healthy-control-enable-log-outputs-
    200-completion, verbatim) is an answered call: a 200, the server working."""
    text = (ROOT / "fixtures/corpus/k-vllm-healthy-control-enable-log-outputs-200-completion/client"
            / "curl-chat-completions.txt").read_text()
    [fact], [log] = client_output.read_client_output(text, "client/curl-chat-completions.txt")
    assert fact.values["statuses"] == [200] and fact.values["answers"][0]["path"] == "/v1/chat/completions"
    assert client_output.answers('{"error": {"object": "error", "message": "x"}}') == []


def test_split_reads_hostile_lines() -> None:
    """Long lines of spaces and colons (what makes nested quantifiers blow up) are read, each as one part."""
    import io

    hostile = b"Name:" + b" " * 200000 + b"x:\n" + b"  " + b"a  " * 100000 + b"\n" + b"\x00" * 10
    parts = split(io.BytesIO(hostile))
    assert [p.kind for p in parts] == ["describe", "log"]


@pytest.mark.parametrize("case, reason", [
    ("k-image-pull-latest-tag-missing", "Failed"),
    ("k-unschedulable-taint-old-wording", "FailedScheduling"),
    ("k-startup-probe-404-wrong-path", "Unhealthy"),
])
def test_bare_event_messages_become_events(case: str, reason: str) -> None:
    """A kubelet or scheduler message pasted on its own line is the event it comes from (its table was not pasted)."""
    evidence = Evidence(Target("bundle", case))
    for path in sorted((CORPUS / case / "pasted").iterdir()):
        read_file(path, f"pasted/{path.name}", "pasted", evidence)
    assert [(e.reason, e.type) for e in evidence.events] == [(reason, "Warning")]


def test_describe_job_is_a_workload() -> None:
    evidence = _read(CORPUS / "k-job-backofflimit-db-unreachable" / "pasted" / "kubectl-describe-job.txt")
    [job] = evidence.workloads
    assert (job.kind, job.name, job.desired, job.failed, job.succeeded) == ("Job", "java-api-checker", 1, 2, 0)
    assert "BackoffLimitExceeded" in [e.reason for e in evidence.events if e.object_kind == "Job"]


@pytest.mark.parametrize("name, warnings", [
    ("k8s-47715-describe-events-1.7.txt", [("BackOff", 3), ("FailedSync", 3)]),  # kubectl 1.7: `Last`, `(x3 from 1h)`
    ("intellij-778-failedscheduling-events.txt", [("FailedScheduling", 108)]),  # two rows, same message: one event
    ("gravity-1335-readiness-503.txt", [("Unhealthy", 25710)]),
    ("k8s-53870-headerless-event-rows.txt", [("Unhealthy", 14)]),  # rows pasted without their header
    ("bank-of-anthos-261-get-events-row.txt", [("Unhealthy", 1)]),  # a get-events row, its message on the next line
])
def test_events_tables_of_several_versions(name: str, warnings: list[tuple[str, int]]) -> None:
    events = _read(DATA / name).events
    assert [(e.reason, e.count) for e in events if e.type == "Warning"] == warnings


def test_get_events_row_object_and_wrapped_message() -> None:
    [event] = _read(DATA / "bank-of-anthos-261-get-events-row.txt").events
    assert (event.object_kind, event.object_name) == ("Pod", "frontend-557f465b6f-xqz9q")
    assert event.message.startswith("Readiness probe failed: Get http://10.1.010.10:8080/ready: net/http")


@pytest.mark.parametrize("case, statuses", [
    ("a-v1-aci-502-run-unexpected-keyword", [502]),  # v1 `service.run`: Response Code: 502
    ("a-v1-aks-503-overloaded-concurrent", [503]),  # the v1 front end's `(overloaded)` body
    ("a-v2-424-failed-dependency-container-404", [424]),  # azure-core: invalid status 'Failed Dependency'
    ("a-v1-aks-worker-timeout-in-run-signal9", [0]),  # requests' ConnectionError: connection reset, no answer
])
def test_client_answers_of_real_scoring_calls(case: str, statuses: list[int]) -> None:
    from doctor.bundle import read_bundle_dir

    evidence = read_bundle_dir(CORPUS / case, case)
    [fact] = [c for c in evidence.configs if c.kind == "client-output"]
    assert fact.values["statuses"] == statuses
    [access] = [s for s in evidence.logs if s.kind == "access"]
    from doctor.traffic.parse import parse_line

    requests = [parse_line(line) for line in access.open().read().splitlines()]
    assert [r.status for r in requests if r] == statuses


def test_connection_reset_is_a_client_error() -> None:
    text = (CORPUS / "a-v1-aks-worker-timeout-in-run-signal9" / "client" / "scoring_call_error.txt").read_text()
    assert [(a.status, a.reason) for a in client_output.answers(text)] == [(0, "reset")]


@pytest.mark.parametrize("case, name, codes", [
    ("a-v2-outofquota-f4s-v2", "sdk_error.txt", {"BadRequest", "InferencingClientCreateDeploymentFailed", "OutOfQuota"}),
    ("a-v2-badrequest-missingdriverprogram-custom-image", "az_ml_online_deployment_create.txt",
     {"BadRequest", "MissingDriverProgram"}),
    ("a-v2-k8s-extension-identity-not-set", "sdk_error.txt", {"DeploymentIdentityError", "RefreshExtensionIdentityNotSet"}),
    ("a-v1-aks-unschedulable-gpu", "wait_for_deployment.txt", {"KubernetesError", "Unschedulable"}),
    # kubectl/oc refusing a create: `Error from server (InternalError): …` (SeldonIO/seldon-core#2009)
    ("k-seldon-operator-upgrade-stale-webhook-x509-unknown-authority", "oc-create.txt", {"InternalError"}),
])
def test_deploy_codes_of_real_v1_v2_errors(case: str, name: str, codes: set[str]) -> None:
    [fact] = deploy_output.read_deploy_output((CORPUS / case / "deploy" / name).read_text(), name)
    assert set(fact.values["error_codes"]) == codes


def test_deploy_file_reporting_failure_in_words_is_a_failed_deploy(cli: Any) -> None:
    """ACI's size refusal has a `Message:` and no error code: in `deploy/` (a deploy command's output by the layout)
    it is a failed deploy, so the service is not called healthy even when no rule knows the wording; pasted
    elsewhere, the same text is not taken for a deploy output, and a message without failure words is not one."""
    case = CORPUS / "k-azml-v1-aci-requested-cpu-memory-exceed-container-limit"
    text = (case / "deploy" / "deploy_error.excerpt.txt").read_text()
    [fact] = deploy_output.read_deploy_output(text, "d", placed=True)
    assert fact.values["failed"] and fact.values["message"].startswith("Resource requested: '2.2' CPU")
    assert deploy_output.read_deploy_output(text, "d") == []
    assert deploy_output.read_deploy_output("Message: Deployment succeeded.\n", "d", placed=True) == []
    run = cli("check", str(case), "--ignore", "quota-exceeded", "--format", "json")
    assert run.code == 1, run.err
    assert run.json()["findings"][0]["rule_id"] == "deploy-failed"


def test_conda_banner_is_not_a_log_header() -> None:
    """`==> WARNING: A newer version of conda exists. <==` (in a v1 build log) is conda's banner, not `tail`'s."""
    with open(CORPUS / "a-v1-aci-env-build-pip-no-such-package" / "deploy" / "wait_for_deployment.excerpt.txt", "rb") as f:
        parts = split(f)
    assert [p.container for p in parts] == [""]


def test_describe_node_capacity_and_requests() -> None:
    [node] = _read(DATA / "hami-477-describe-node-gpu.txt").nodes
    assert (node.name, node.allocatable["nvidia.com/gpu"], node.capacity["nvidia.com/gpu"]) == ("gpu-000-001", 70, 80)
    assert (node.requested["nvidia.com/gpu"], node.requested["cpu"], node.free("nvidia.com/gpu")) == (5, 4.885, 65)
    assert node.ready, "no Conditions table in the paste: readiness is not known, the node is not called NotReady"


def test_describe_node_taint_and_labels() -> None:
    [node] = _read(DATA / "device-plugin-33-describe-node-taint.txt").nodes
    assert node.taints == ("gpu=:NoSchedule",)  # as convert.k8s_node writes a taint without a value
    assert node.labels["gpu"] == "installed" and not node.unschedulable


def test_describe_deployment_2016() -> None:
    evidence = _read(DATA / "k8s-38698-describe-deployment-2016.txt")
    [workload] = evidence.workloads
    assert (workload.kind, workload.name, workload.available, workload.updated) == ("Deployment", "nginx", 2, 2)
    assert [(c.type, c.status, c.reason) for c in workload.conditions] == [("Available", "True", "MinimumReplicasAvailable")]
    assert [c.kind for c in evidence.configs] == ["k8s-deployment"]


def test_describe_init_container_block() -> None:
    [state] = _read(DATA / "k8s-94216-init-crashloop.txt").states
    assert (state.container, state.init, state.reason, state.restart_count) == ("init", True, "CrashLoopBackOff", 16)
    assert (state.last_reason, state.last_exit_code) == ("Error", 1)
    assert state.last_message == "Failed to fetch /opt/mule/conf/rtfv1.yml. statusCode=403"


@pytest.mark.parametrize("name, answers", [
    ("mlopspython-157-smoke-test-502.txt", [(502, "Bad Gateway"), (502, "Bad Gateway")]),  # raise_for_status() text
    ("azure-docs-44339-client-timeout.txt", [(0, "timeout")]),  # the front end's Go client gave up on the container
])
def test_client_answers_printed_by_scoring_clients(name: str, answers: list[tuple[int, str]]) -> None:
    found = client_output.answers((DATA / name).read_text())
    assert [(a.status, a.reason) for a in found] == answers and {a.path for a in found} == {"/score"}


def test_client_502s_reach_the_scoring_error_rule(tmp_path: Path) -> None:
    (tmp_path / "client").mkdir()
    shutil.copy(DATA / "mlopspython-157-smoke-test-502.txt", tmp_path / "client" / "smoke.txt")
    code, report = _check_json(tmp_path)
    assert code == 1 and report["findings"][0]["rule_id"] == "scoring-error"


@pytest.mark.parametrize("name, rows", [
    ("kserve-2037-get-pods-init-crashloop.txt", [("Running", 14, True, False), ("CrashLoopBackOff", 94, False, True)]),
    # `kubectl get pods -A` rows pasted without their header, RESTARTS as `264 (4m54s ago)`
    ("kserve-3254-get-pods-A-rows.txt", [("CrashLoopBackOff", 264, False, True), ("CrashLoopBackOff", 507, False, True),
                                         ("CrashLoopBackOff", 570, False, False), ("Running", 776, False, False)]),
])
def test_get_pods_rows_of_several_versions(name: str, rows: list[tuple[str, int, bool, bool]]) -> None:
    states = _read(DATA / name).states
    assert [(s.reason or s.status.title(), s.restart_count, s.ready, s.init) for s in states] == rows


def test_curl_i_answer_with_azure_ml_headers() -> None:
    """Recorded by tests/data/pasted/recorded/record_curl.py (real curl, a local stand-in server)."""
    evidence = _read(DATA / "recorded" / "curl-i-score-424.txt", "client")
    [fact] = evidence.configs
    assert (fact.values["status"], fact.values["reason"]) == (424, "Failed Dependency")
    assert (fact.values["model_error_statuscode"], fact.values["model_error_reason"]) == ("500", "model_error")
    assert fact.values["request_id"] == "3b6f6f4e-2a35-4d2c-9a51-1f0d1c2b9e11"
    [access] = evidence.logs
    line = access.open().read().decode()
    assert '"POST /score-424 HTTP/1.1" 424 ' in line and "[01/Dec/2026:22:55:45 +0000]" in line


def test_curl_v_answer_counts_once() -> None:
    """`curl -v`: the request line gives the path; the status line and the `(overloaded)` body are one answer."""
    [answer] = client_output.answers((DATA / "recorded" / "curl-v-score-503.txt").read_text())
    assert (answer.status, answer.method, answer.path) == (503, "POST", "/score-503")


@pytest.mark.parametrize("line, handler, fields", [
    # constructed in the format kubectl's describer prints (`%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d`),
    # not copied from a thread: the real http-get line is tested above (k-oomkilled-300mi-limit)
    ("exec [cat /tmp/healthy] delay=5s timeout=1s period=5s #success=1 #failure=3", "exec", (5, 1, 5, 1, 3)),
    ("tcp-socket :8080 delay=15s timeout=1s period=20s #success=1 #failure=3", "tcpSocket", (15, 1, 20, 1, 3)),
])
def test_probe_line_handlers(line: str, handler: str, fields: tuple[int, ...]) -> None:
    from doctor.collect.kubectl_describe import probe_spec

    spec = probe_spec(line)
    assert handler in spec
    assert tuple(spec[k] for k in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                                   "failureThreshold")) == fields


def test_an_endless_describe_block_is_cut_and_the_rest_read_as_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded: a part past its line cap is closed, what follows it is a log (streamed, not held)."""
    import io

    from doctor.collect import paste_split

    monkeypatch.setattr(paste_split, "MAX_PART_LINES", 3)
    text = b"Name:  x\nNamespace:  y\n  Labels:  a=b\n  more:  1\n  more:  2\n"
    parts = split(io.BytesIO(text))
    assert [(p.kind, p.cut, len(p.lines)) for p in parts] == [("describe", True, 3), ("log", False, 0)]


def test_describe_pvc_pending_without_storage_class() -> None:
    evidence = _read(CORPUS / "k-pvc-pending-no-storageclass" / "pasted" / "describe-pvc.txt")
    [claim] = evidence.pvcs
    assert (claim.name, claim.phase, claim.storage_class, claim.volume_name) == ("hub-db-dir", "Pending", None, None)
    [event] = evidence.events
    assert (event.object_kind, event.reason, event.count) == ("PersistentVolumeClaim", "FailedBinding", 43)


@pytest.mark.parametrize("case, name, event", [
    # a describe row pasted alone, not indented
    ("k-failedmount-secret-not-found", "describe-event.txt", ("Warning", "FailedMount", 1198)),
    # a describe row without its Type column: FailedScheduling is only ever a Warning
    ("k-unschedulable-untolerated-gpu-taint", "describe-kvcache-events.txt", ("Warning", "FailedScheduling", 42)),
])
def test_single_event_rows_pasted_alone(case: str, name: str, event: tuple[str, str, int]) -> None:
    [found] = _read(CORPUS / case / "pasted" / name).events
    assert (found.type, found.reason, found.count) == event


def test_probe_timeout_message_is_not_a_client_answer() -> None:
    """`Readiness probe failed: Get http://…: net/http: request canceled (Client.Timeout exceeded …)` is the kubelet's."""
    evidence = _read(CORPUS / "k-control-readiness-timeout-once-at-start" / "pasted" / "describe-events.txt")
    assert not [c for c in evidence.configs if c.kind == "client-output"]
    assert not [s for s in evidence.logs if s.kind == "access"]


def test_describe_hpa_unable_to_compute() -> None:
    evidence = _read(CORPUS / "k-hpa-metrics-api-not-installed" / "pasted" / "describe-hpa.txt")
    [hpa] = evidence.autoscalers
    assert (hpa.target_kind, hpa.target_name, hpa.min_replicas, hpa.max_replicas) == ("Deployment", "worker", 1, 15)
    assert (hpa.current_replicas, hpa.desired_replicas, hpa.metrics) == (1, 0, ("cpu 50%",))
    active = {c.type: c for c in hpa.conditions}["ScalingActive"]
    assert (active.status, active.reason) == ("False", "FailedGetResourceMetric")
    assert [c.values["target_utilization"] for c in evidence.configs if c.kind == "hpa"] == [50]


@pytest.mark.parametrize("name, event", [
    # kubectl 1.4 describe: tabs and spaces mixed, an empty SubobjectPath, Type before Reason
    ("k8s-9207-describe-events-1.4.txt", ("Warning", "FailedScheduling", 50, "", "")),
    # kubectl 1.4 get events: LASTSEEN FIRSTSEEN COUNT NAME KIND SUBOBJECT(empty) TYPE REASON SOURCE MESSAGE
    ("k8s-9207-get-events-1.4.txt", ("Warning", "FailedSync", 26052, "Pod", "kube-dns-2247936740-j6pq1")),
])
def test_events_tables_of_kubectl_1_4(name: str, event: tuple[str, str, int, str, str]) -> None:
    evidence = _read(DATA / name)
    [found] = evidence.events
    assert (found.type, found.reason, found.count, found.object_kind, found.object_name) == event
    assert not evidence.logs, "the command line with its `[root@host dir]#` prompt is a header, not log text"


def test_pasted_get_o_yaml_items_are_read_as_objects() -> None:
    """`kubectl get events -o yaml` items pasted (`- apiVersion: v1 …`): converted as k8s/events.json would be."""
    evidence = _read(CORPUS / "k-image-pull-tag-not-found-says-no-credentials" / "pasted" / "events-item.yaml")
    [event] = evidence.events
    assert (event.reason, event.count, event.object_kind, event.object_name) == ("Failed", 61, "Pod", "registry-v1-j6noi")
    assert event.message.startswith('Failed to pull image "quay.io/ukhomeofficedigital/s3registry:v2.0.0-bob"')
    assert not evidence.logs and event.first_time is not None


@pytest.mark.parametrize("path, message", [
    # the v1 AKS deploy error's JSON detail quotes the scheduler
    (CORPUS / "a-v1-aks-unschedulable-gpu" / "deploy" / "wait_for_deployment.txt",
     "0/3 nodes are available: 3 Insufficient nvidia.com/gpu"),
    # a CI tool's sentence with the scheduler's message in parentheses
    (CORPUS / "k-unschedulable-insufficient-cpu-memory-prow" / "pasted" / "prow-scheduling-error.txt",
     "0/57 nodes are available: 18 Insufficient memory, 3 node(s) had taint {dedicated: greenhouse}, that the pod "
     "didn’t tolerate, 54 Insufficient cpu"),
])
def test_quoted_scheduler_message_is_a_failed_scheduling_event(path: Path, message: str) -> None:
    [event] = _read(path, path.parent.name).events
    assert (event.type, event.reason, event.message) == ("Warning", "FailedScheduling", message)


def test_an_invoke_error_of_the_azure_ml_cli_is_a_failed_call_not_a_failed_deployment(tmp_path: Path, cli: Any) -> None:
    """`az ml online-endpoint invoke` prints no HTTP status, only the platform's `ERROR: (Code) message`: under
    `client/` it is a scoring call that failed (reported with the platform's own words, exit 1), not an unknown
    file (exit 3), and not `deploy-failed` (the deployment exists: the call reached it)."""
    root = tmp_path / "bundle"
    (root / "client").mkdir(parents=True)
    (root / "client" / "invoke.txt").write_text(
        "Run az ml online-endpoint invoke --name ep-1 --request-file sample.json -g rg -w ws\n"
        "ERROR: (UserError) Access denied to list workspace secret due to invalid authentication. Please assign RBAC "
        "role 'AzureML Data Scientist' to the endpoint for current workspace.\n"
        "Code: UserError\nMessage: Access denied to list workspace secret due to invalid authentication.\n",
        encoding="utf-8")
    run = cli("check", str(root), "--format", "json")
    report = json.loads(run.out)
    assert run.code == 1 and report["status"] == "failing", run.out
    first = report["findings"][0]
    assert first["rule_id"] == "unexplained-failure" and "'AzureML Data Scientist'" in first["fix"], first
    assert not any(f["rule_id"] == "deploy-failed" for f in report["findings"])
    plain = root.parent / "plain"
    (plain / "client").mkdir(parents=True)
    (plain / "client" / "note.txt").write_text("ERROR: (UserError) something\n", encoding="utf-8")  # no invoke: not read
    assert cli("check", str(plain), "--format", "json").code == 3


def test_a_terminated_state_pasted_as_a_yaml_fragment_is_that_containers_state() -> None:
    """`kubectl get pod -o yaml | yq '.status.containerStatuses[0].lastState.terminated'` prints the fields alone
    (kuberay#4287, corpus k-kuberay-head-oomkilled-sample-raycluster): a container's previous run, OOM-killed. Without
    `lastState` above it, the same fields (also as JSON) are the container's current state; a lone `reason:` is not."""
    from doctor.collect.pasted_objects import terminated_fragments

    [last] = terminated_fragments((CORPUS / "k-kuberay-head-oomkilled-sample-raycluster" / "pasted" /
                                   "last-state-terminated.txt").read_text(), "pasted/x.txt")
    assert (last.last_reason, last.last_exit_code, last.status, last.restart_count) == ("OOMKilled", 137, "unknown", 1)
    assert last.last_finished_at is not None and last.last_finished_at.isoformat() == "2025-12-17T10:56:44+00:00"
    [current] = terminated_fragments('$ kubectl get pod p -o json | jq .status.containerStatuses[0].state.terminated\n'
                                     '{\n  "exitCode": 1,\n  "reason": "Error",\n  "message": "boom"\n}\n', "x")
    assert (current.status, current.exit_code, current.reason, current.message) == ("terminated", 1, "Error", "boom")
    assert terminated_fragments("reason: OOMKilled\nsomething else\nexitCode: x\n", "x") == []


@pytest.mark.parametrize("line, kind", [
    ("I get `curl: (56) Recv failure: Connection reset by peer`", "reset"),
    ("curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused", "refused"),
    ("curl: (52) Empty reply from server", "empty_reply"),
    ("curl: (28) Operation timed out after 60001 milliseconds with 0 bytes received", "timeout"),
])
def test_curl_transport_errors_are_calls_without_an_answer(line: str, kind: str) -> None:
    """curl's own errors (no HTTP answer): each is a call the service did not answer, of the kind `mldoctor probe`
    records; a paste of nothing but such calls is not healthy (corpus k-torchserve-docker-cmd-without-ts-config-…)."""
    facts, logs = client_output.read_client_output(line + "\n", "pasted/x.txt")
    [log] = logs
    assert f"error={kind}" in log.open().read().decode()
    assert facts and facts[0].kind == "client-output"


@pytest.mark.parametrize("name, kind, workload, age", [
    ("kserve-689-get-isvc-not-ready.txt", "InferenceService", "flowers-sample", 61.0),
    ("kserve-1601-get-isvc-not-ready.txt", "InferenceService", "paddleserving-custom", 24 * 60.0),
])
def test_inference_service_table_not_ready(name: str, kind: str, workload: str, age: float) -> None:
    """`kubectl get inferenceservice` (READY True/False/Unknown, the URL cell empty while not ready) is a workload
    whose Ready condition is what the table says; alone in a paste it is a failure, never healthy."""
    evidence = _read(DATA / name)
    [found] = evidence.workloads
    assert (found.kind, found.name, found.age_s) == (kind, workload, age)
    assert [(c.type, c.status) for c in found.conditions] == [("Ready", "False")]
    code, report = _check_json(DATA / name)
    assert code == 1 and report["findings"][0]["rule_id"] == "unexplained-failure"
    assert f"InferenceService {workload}: Ready False" in report["findings"][0]["title"]


def test_ready_table_rows_and_ages() -> None:
    from doctor.collect.kubectl_tables import ReadyTable, age_seconds

    assert [age_seconds(a) for a in ("61s", "3m54s", "12h", "2d3h", "<unknown>", "")] == [61, 234, 43200, 183600, None, None]
    table = ReadyTable("NAME                      URL                          LATESTCREATED                   LATESTREADY                     READY   REASON", "t")
    assert table.kind == "Service"  # Knative's ksvc (kserve/kserve#1447's header)
    assert table.feed("craft-predictor-default   http://craft.example.com   craft-predictor-default-zstwg   craft-predictor-default-zstwg   True")
    assert not table.feed("not a row at all")
    [ksvc] = table.workloads()
    assert (ksvc.name, ksvc.conditions[0].status) == ("craft-predictor-default", "True")


def test_ready_unknown_counts_only_when_old(cli: Any, tmp_path: Path) -> None:
    """READY Unknown is a service still starting in its first 5 minutes (as a pod running unready is), a failure
    after that. Still starting is not healthy either: nothing shows it working, so the status is `unknown` (exit 3)
    with a note saying so (it was `healthy`, exit 0)."""
    header = "NAME    URL   READY     PREV   LATEST   PREVROLLEDOUTREVISION   LATESTREADYREVISION             AGE\n"
    for age, code, state in (("2m", 3, "unknown"), ("12h", 1, "failing")):
        paste = tmp_path / f"isvc-{age}.txt"
        paste.write_text(header + f"craft         Unknown          100                              craft-predictor-default-zstwg  {age}\n")
        run = cli("check", str(paste), "--format", "json")
        report = json.loads(run.out)
        assert (run.code, report["status"]) == (code, state), age
        starting = [n for n in report["notes"] if "nothing shows the service working yet" in n]
        assert bool(starting) == (age == "2m"), report["notes"]
    assert "InferenceService craft not ready (120 s old)" in starting[0] if age == "2m" else True


def test_pods_still_starting_are_not_healthy(cli: Any, tmp_path: Path) -> None:
    """`kubectl get pods` with every pod 0/1 (ContainerCreating, or Running not ready) and nothing else: unknown, not
    healthy; one pod ready among them: healthy."""
    header = "NAME                       READY   STATUS              RESTARTS   AGE\n"
    starting = header + "model-7d9c6b5b8-x2x9z      0/1     ContainerCreating   0          40s\n"
    running = starting + "model-7d9c6b5b8-abcde      1/1     Running             0          3m\n"
    for text, code, state in ((starting, 3, "unknown"), (running, 0, "healthy")):
        paste = tmp_path / f"pods-{code}.txt"
        paste.write_text(text)
        run = cli("check", str(paste), "--format", "json")
        assert (run.code, json.loads(run.out)["status"]) == (code, state), run.out
    text_run = cli("check", str(tmp_path / "pods-3.txt"))
    assert "nothing shows the service working yet" in text_run.out and "No problem found." not in text_run.out


def test_envoy_reply_body_is_a_503() -> None:
    """Envoy's own answer (Istio/Knative/KServe gateways) printed alone is an answer: 503, or 504 for its timeout."""
    text = (DATA / "kserve-website-236-envoy-reply.txt").read_text()
    assert [(a.status, a.reason) for a in client_output.answers(text)] == [
        (503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure")]
    assert [a.status for a in client_output.answers("no healthy upstream\nupstream request timeout")] == [503, 504]
    code, report = _check_json(DATA / "kserve-website-236-envoy-reply.txt")
    assert code == 1 and report["status"] == "failing"


def test_python_requests_response_repr_is_an_answer() -> None:
    """`print(response)` of python-requests (`<Response [503]>`), as a user pastes it (pytorch/serve#2035, verbatim, in the
    corpus): an answer with that status, so the paste is a client's output."""
    text = (ROOT / "fixtures/corpus/k-torchserve-handler-returns-tensor-invalid-return-type-503/pasted"
            / "client-requests-output.txt").read_text()
    assert [a.status for a in client_output.answers(text)] == [503]
    assert [a.status for a in client_output.answers("<Response [200]>\n<Response [502]>")] == [200, 502]
    assert client_output.answers("Response [503] <not a repr>") == []


def test_browser_error_page_is_no_answer() -> None:
    """A browser's error page pasted as the client's output (Chromium's `ERR_EMPTY_RESPONSE`, verbatim from the corpus
    case of https-deeplearning-ai/machine-learning-engineering-for-production-public#93) is a call with no answer."""
    text = (ROOT / "fixtures/corpus/k-docker-tfserving-port-map-8501-to-container-8051-empty-response/client"
            / "browser.txt").read_text()
    assert [(a.status, a.reason) for a in client_output.answers(text)] == [(0, "empty_reply")]
    assert [a.reason for a in client_output.answers("ERR_CONNECTION_REFUSED")] == ["refused"]


def test_proxy_error_page_is_an_answer() -> None:
    """nginx's own error page printed by curl (opea-project/Enterprise-Inference#95, verbatim, in the corpus) is a 504
    answer; a page whose title is no status is not."""
    text = (ROOT / "fixtures/corpus/k-vllm-cpu-ingress-nginx-504-upstream-timed-out-60s-apisix-timeouts-300s/client"
            / "curl-response-504.txt").read_text()
    assert [(a.status, a.reason) for a in client_output.answers(text)] == [(504, "Gateway Time-out")]
    assert client_output.answers("<html><head><title>Welcome to nginx!</title></head></html>") == []
    assert client_output.answers("<title>200 OK</title>") == []


def test_client_library_errors_and_context_limits() -> None:
    """Verbatim client outputs of the corpus: ollama-python's `ResponseError: … (status code: 500)` is a 500 answer with
    its message (morphik-org/morphik-core#120); LiteLLM's `ContextWindowExceededError: …` printed alone is a failed call
    (a client-error fact) that names the request's and the context's size (joryirving/home-ops#7550); llama.cpp's 400 body
    carries them as `n_prompt_tokens` / `n_ctx` (oobabooga/textgen#7257); a warning printed alone is no failed call."""
    corpus = ROOT / "fixtures/corpus"
    ollama = (corpus / "k-docker-ollama-500-model-requires-11-3-gib-available-11-2-gib-mem-limit-12g/client"
              / "ollama-response-error.txt").read_text()
    [fact], _ = client_output.read_client_output(ollama, "client/x.txt")
    assert fact.kind == "client-output" and fact.values["statuses"] == [500]
    assert fact.values["answer_message"] == "model requires more system memory (11.3 GiB) than is available (11.2 GiB)"
    litellm = (corpus / "k-llamacpp-k8s-parallel-8-divides-ctx-32768-to-4096-per-slot-litellm-context-window-exceeded"
               / "client/litellm-error.txt").read_text()
    [fact], logs = client_output.read_client_output(litellm, "client/x.txt")
    assert (fact.kind, fact.values["code"], fact.values["command"]) == ("client-error", "ContextWindowExceededError", "exception")
    assert fact.values["context"] == {"requested": 4574, "limit": 4096} and logs == []
    llama = (corpus / "k-llamacpp-server-400-exceed-context-size-14429-prompt-tokens-n-ctx-8192-silent-in-webui/client"
             / "llama-server-response.json").read_text()
    [fact], _ = client_output.read_client_output(llama, "client/x.json")
    assert fact.values["statuses"] == [400] and fact.values["context"] == {"requested": 14429, "limit": 8192}
    vllm = ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the "
            "messages, 1000 in the completion). Please reduce the length of the messages or completion.")
    assert client_output.context_limit(vllm) == {"requested": 5000, "limit": 4096}
    tgi = "ValidationError: Input validation error: `inputs` must have less than 1024 tokens. Given: 1872"  # TGI #937
    assert client_output.context_limit(tgi) == {"requested": 1872, "limit": 1024}
    assert client_output.read_client_output("UserWarning: X does not have valid feature names", "client/x") == ([], [])


def test_the_az_clis_own_refusals_are_failed_deploy_outputs() -> None:
    """The az CLI refusing before anything reaches Azure, verbatim from the corpus: a command it does not know
    (Azure/azure-cli#21387) and a YAML failing the ml extension's schema check, with each field's error
    (MicrosoftDocs/azure-docs#92246), in `deploy/` or pasted; an az command's ordinary output is no deploy output."""
    corpus = ROOT / "fixtures/corpus"
    unknown = (corpus / "a-v2-cli-online-endpoint-misspelled-v1-azure-cli-ml-extension-conflict/deploy"
               / "az_ml_online_endpoint_create.txt").read_text()
    schema = (corpus / "a-v2-cli-online-endpoint-create-given-deployment-yaml-schema-unknown-fields/deploy"
              / "az_ml_online_endpoint_create.txt").read_text()
    for placed in (True, False):
        [fact] = deploy_output.read_deploy_output(unknown, "deploy/x.txt", placed=placed)
        assert fact.values["failed"] and fact.values["cli_unknown"] == "online-endpoint"
        assert fact.values["message"] == "'online-endpoint' is misspelled or not recognized by the system."
        [fact] = deploy_output.read_deploy_output(schema, "deploy/x.txt", placed=placed)
        assert (fact.values["schema"], fact.values["cli_unknown"]) == ("ManagedOnlineEndpointSchema", None)
        assert list(fact.values["field_errors"]) == ["instance_type", "code_configuration", "endpoint_name",
                                                     "instance_count", "environment", "model"]
        assert set(fact.values["field_errors"].values()) == {"Unknown field."}
    assert deploy_output.read_deploy_output('{\n  "azure-cli": "2.36.0"\n}\n', "pasted/x.txt") == []


def test_an_extensions_request_for_a_setting_is_a_failed_deploy_output() -> None:
    """`az k8s-extension create` refusing to install Azure ML's inference without `inferenceRouterServiceType`
    (MicrosoftDocs/azure-docs#107910, verbatim, in the corpus) is a failed deploy output naming the setting and the
    values it offers, in `deploy/` or pasted (it was reported healthy)."""
    text = (ROOT / "fixtures/corpus/a-v2-k8s-extension-create-inference-without-inference-router-service-type/deploy"
            / "az_k8s_extension_create.excerpt.txt").read_text()
    for placed in (True, False):
        [fact] = deploy_output.read_deploy_output(text, "deploy/x.txt", placed=placed)
        assert fact.values["failed"] and fact.values["message"].startswith("To use inference, please specify")
        assert fact.values["cli_missing"] == {"setting": "inferenceRouterServiceType",
                                              "choices": ["ClusterIP", "NodePort", "LoadBalancer"]}


def test_a_go_clients_error_response_with_status_and_body_is_an_answer() -> None:
    """Docker Model Runner's `Failed to generate a response: error response: status=500 body=…` (docker/model-runner#109,
    verbatim, in the corpus) is a 500 answer whose body (with its next line) is what the server said."""
    text = (ROOT / "fixtures/corpus/k-docker-model-runner-llamacpp-500-unknown-architecture-falcon-h1-backend-too-old/client"
            / "docker-model-run.txt").read_text()
    [fact], _ = client_output.read_client_output(text, "client/docker-model-run.txt")
    assert fact.values["statuses"] == [500]
    assert fact.values["body"].startswith("unable to load runner:")
    assert "unknown model architecture: 'falcon-h1'" in fact.values["body"]


KUBE_REFUSALS = [  # verbatim lines of public threads
    # https://github.com/istio/operator/pull/194
    ('The Deployment "istio-policy" is invalid: spec.template.spec.containers[1].resources.requests: Invalid value: '
     '"1Gi": must be less than or equal to memory limit', "invalid",
     {"kind": "Deployment", "name": "istio-policy", "field": "spec.template.spec.containers[1].resources.requests",
      "value": "1Gi", "why": "must be less than or equal to memory limit"}),
    # https://github.com/nautobot/helm-charts/issues/43 (helm's form, two errors in brackets)
    ('Error: Deployment.apps "nautobot" is invalid: [spec.template.spec.containers[0].resources.requests: Invalid value: '
     '"8704M": must be less than orequal to memory limit, spec.template.spec.containers[0].resources.requests: Invalid '
     'value: "600m": must be less than or equal to cpu limit]', "invalid",
     {"kind": "Deployment.apps", "name": "nautobot", "value": "8704M"}),
    # https://github.com/kserve/kserve/issues/2868
    ('error: resource mapping not found for name: "custom-model" namespace: "" from "custom.yaml": no matches for kind '
     '"InferenceService" in version "serving.kserve.io/v1beta1"\nensure CRDs are installed first', "missing_kind",
     {"kind": "InferenceService", "version": "serving.kserve.io/v1beta1"}),
    # https://github.com/kserve/modelmesh-serving/issues/287
    ('Error from server (Exactly one of [SKLearn, XGBoost, Tensorflow, PyTorch, Triton, ONNX, PMML, LightGBM, Paddle, '
     'PodSpec] must be specified in PredictorSpec): error when creating "tableengine_isvc.yaml": admission webhook '
     '"inferenceservice.kserve-webhook-server.validator" denied the request: Exactly one of [SKLearn, XGBoost, '
     'Tensorflow, PyTorch, Triton, ONNX, PMML, LightGBM, Paddle, PodSpec] must be specified in PredictorSpec',
     "webhook_denied", {"name": "inferenceservice.kserve-webhook-server.validator"}),
]


@pytest.mark.parametrize("text,what,expected", KUBE_REFUSALS)
def test_the_clusters_refusals_of_an_apply_are_failed_deploy_outputs(text: str, what: str, expected: dict[str, str]) -> None:
    """kubectl's and helm's output when the cluster refuses a manifest (the API server's validation, an admission
    webhook, a kind no CRD defines) is a failed deploy output naming what was refused, in `deploy/` or pasted: a
    bundle holding only it is not healthy."""
    for placed in (True, False):
        [fact] = deploy_output.read_deploy_output(text + "\n", "deploy/x.txt", placed=placed)
        assert fact.values["failed"] and fact.values["message"]
        found = fact.values[what]
        assert found is not None and {k: found[k] for k in expected} == expected
        assert [k for k in ("invalid", "webhook_denied", "missing_kind") if fact.values[k]] == [what]


def test_the_clusters_refusal_alone_makes_a_failing_check(tmp_path: Path) -> None:
    """A bundle whose only evidence is `kubectl apply`'s refusal fails the check, first finding deploy-failed with the
    field and value refused (istio/operator#194, verbatim)."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "kubectl-apply.txt").write_text(KUBE_REFUSALS[0][0] + "\n")
    code, report = _check_json(tmp_path)
    assert code == 1 and report["findings"][0]["rule_id"] == "deploy-failed"
    assert "`1Gi` must be less than or equal to memory limit" in report["findings"][0]["title"]


DOCKER_REFUSALS = [  # the corpus's verbatim `docker run` / `docker compose up` outputs, and the finding each must give
    ("k-docker-tei-gpus-all-could-not-select-device-driver-no-nvidia-container-toolkit", "docker-run.txt",
     "could not select device driver", "gpu-unavailable"),
    ("k-docker-jetson-inference-run-failed-to-register-layer-no-space-left-5-4g-free", "docker-run.txt",
     "failed to register layer", "image-pull-failure"),
    ("k-docker-compose-ollama-11434-address-in-use-host-ollama-service", "docker-compose-up.txt",
     "listen tcp4 0.0.0.0:11434: bind: address already in use", "port-in-use"),
]


@pytest.mark.parametrize("case,name,said,rule", DOCKER_REFUSALS)
def test_the_docker_engines_refusals_are_failed_deploy_outputs(tmp_path: Path, case: str, name: str, said: str,
                                                               rule: str) -> None:
    """Docker's own refusal of a `docker run` (no GPU runtime, a full disk unpacking layers, a host port taken) is a
    failed deploy output quoting the engine, in `deploy/` or pasted; a bundle holding only it fails the check with the
    rule that names the cause, not the generic deploy-failed (all three were reported healthy before)."""
    text = (ROOT / "fixtures/corpus" / case / "deploy" / name).read_text()
    for placed in (True, False):
        [fact] = deploy_output.read_deploy_output(text, "deploy/x.txt", placed=placed)
        assert fact.values["failed"] and said in fact.values["engine_refused"] and said in fact.values["message"]
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / name).write_text(text)
    code, report = _check_json(tmp_path)
    assert code == 1 and report["status"] == "failing" and report["findings"][0]["rule_id"] == rule


def test_a_bare_error_line_is_an_engines_refusal_only_in_deploy() -> None:
    """Podman's bare `Error: …` counts only in `deploy/` (the bundle's place for a deploy command's output); pasted, a
    line starting `Error: ` is anything's."""
    text = "Error: short-name resolution enforced but cannot prompt without a TTY\n"
    [fact] = deploy_output.read_deploy_output(text, "deploy/x.txt", placed=True)
    assert fact.values["engine_refused"] == "short-name resolution enforced but cannot prompt without a TTY"
    assert deploy_output.read_deploy_output(text, "pasted/x.txt", placed=False) == []


def test_gos_404_page_not_found_printed_by_curl_is_an_answer() -> None:
    """curl printing Go's `http.NotFound` body (Ambassador's answer, SeldonIO/seldon-core#215, verbatim) in `client/` is a
    404 answer for the path of the URL curl was given; the same words pasted are anyone's."""
    text = (ROOT / "fixtures/corpus/k-seldon-ambassador-curl-localhost-predict-404-not-seldon-deployment-api-path/client"
            / "curl-predict.txt").read_text()
    [fact], [log] = client_output.read_client_output(text, "client/curl-predict.txt")
    assert fact.values["statuses"] == [404] and fact.values["answers"][0]["path"] == "/predict"
    assert fact.values["body"] == "page not found"
    assert client_output.read_client_output(text, "pasted/x.txt", pasted=True) == ([], [])


def test_a_json_answer_indented_as_a_whole_is_read() -> None:
    """TorchServe's JSON answer kept with the tab of the Markdown code block it was posted in (pytorch/serve#712,
    verbatim): the same 404 and message as unindented."""
    text = (ROOT / "fixtures/corpus/k-docker-torchserve-register-host-path-mar-404-model-not-found-in-model-store/client"
            / "register-model-response.txt").read_text()
    assert text.startswith("\t{")
    for variant in (text, "".join(line.removeprefix("\t") for line in text.splitlines(keepends=True))):
        [fact], _ = client_output.read_client_output(variant, "client/register-model-response.txt")
        assert fact.values["statuses"] == [404]
        assert fact.values["answer_message"] == "Model not found in model store: /path/to/models/my-model.mar"


def test_an_exception_in_a_pasted_server_log_is_not_a_client_call() -> None:
    """A traceback in a server's own log pasted whole (azmlinfsrv 1.5.0's harmless `Error while fetching model IDs`,
    `NotADirectoryError`, then `ready for serving traffic`; balakreshnan/Samples2025, verbatim, in the corpus) is the
    server's, not a client library's exception: no client-error fact, and the service is healthy. The same exception
    line in `client/`, or pasted alone, is still a failed call."""
    case = ROOT / "fixtures/corpus/a-v2-healthy-control-azmlinfsrv-150-yolo-local-error-fetching-model-ids-notadirectory"
    text = (case / "pasted/azmlinfsrv_console.txt").read_text()
    assert client_output.read_client_output(text, "pasted/x.txt", pasted=True) == ([], [])
    [fact], _ = client_output.read_client_output(text, "client/x.txt")
    assert (fact.values["code"], fact.values["command"]) == ("NotADirectoryError", "exception")
    alone = "NotADirectoryError: [Errno 20] Not a directory: './models/.amlignore'"
    assert client_output.read_client_output(alone, "pasted/x.txt", pasted=True)[0][0].values["code"] == "NotADirectoryError"
    code, report = _check_json(case)
    assert code == 0 and report["status"] == "healthy"


def test_the_openai_clients_error_and_a_printed_status_are_answers() -> None:
    """The OpenAI Python client's `Error code: 400 - {'object': 'error', 'message': '…'}` (a dict's repr, verbatim from
    the corpus) is a 400 answer with the server's message, its repr quoting undone; a script's `400 <message>` line is
    one in `client/` only (pasted, such a line could be anything)."""
    corpus = ROOT / "fixtures/corpus"
    openai = (corpus / "k-docker-vllm-glm-edge-400-auto-tool-choice-needs-enable-auto-tool-choice-tool-call-parser/client"
              / "chat-completions-error.txt").read_text()
    for pasted in (False, True):
        [fact], _ = client_output.read_client_output(openai, "client/x.txt", pasted=pasted)
        assert fact.values["statuses"] == [400]
        assert fact.values["answer_message"] == '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
    quoted = "openai.BadRequestError: Error code: 400 - {'message': 'it\\'s a \\\\ path', 'code': 400}"
    assert client_output.read_client_output(quoted, "client/x")[0][0].values["answer_message"] == "it's a \\ path"
    printed = (corpus / "k-docker-vllm-seed-x-ppo-7b-chat-api-400-no-chat-template-transformers-4-44/client"
               / "chat-api-error.txt").read_text()
    [fact], _ = client_output.read_client_output(printed, "client/x.txt")
    assert fact.values["statuses"] == [400] and fact.values["answer_message"].startswith("As of transformers v4.44")
    assert client_output.read_client_output(printed, "pasted/x.txt", pasted=True) == ([], [])


def test_json_error_body_alone_is_an_answer() -> None:
    """An OpenAI-compatible server's error body printed alone (vllm-project/vllm#3486, verbatim, in the corpus) is a 404
    answer with its message; a JSON log line with a success code is not an answer."""
    text = (ROOT / "fixtures/corpus/k-vllm-openai-404-model-name-not-served-model-name/client"
            / "completion-error.txt").read_text()
    assert [(a.status, a.reason) for a in client_output.answers(text)] == [
        (404, "The model `Qwen1.5-14B-Chat-GPTQ-Int8` does not exist.")]
    assert client_output.answers('{"level": "info", "code": 200, "message": "ok"}') == []
    code, report = _check_json(ROOT / "fixtures/corpus/k-vllm-openai-404-model-name-not-served-model-name")
    assert code == 1 and report["findings"][0]["rule_id"] == "unexplained-failure"
    assert "--served-model-name" in report["findings"][0]["fix"]


# TorchServe's and BentoML's access lines as the real servers write them (fixtures/servers/*-healthy), status varied
TORCHSERVE_ACCESS = ('2026-12-02T17:26:4{i},407 [INFO ] W-9000-linear_1.0 ACCESS_LOG - /127.0.0.1:5029{i} '
                     '"POST /predictions/linear HTTP/1.1" {status} 10\n')
BENTOML_ACCESS = ("2026-12-01T23:50:2{i}+0000 [INFO] [entry_service:Linear:1] 127.0.0.1:5798{i} (scheme=http,method=POST,"
                  "path=/predict,type=application/json,length=23) (status={status},type=application/json,length=74) 25.041ms "
                  "(trace=86f4ed1df7327d059c163936807e9e7c,span=222c107c1a72f1f9,sampled=0,service.name=Linear)\n")


@pytest.mark.parametrize("line", [TORCHSERVE_ACCESS, BENTOML_ACCESS], ids=["torchserve", "bentoml"])
def test_torchserve_and_bentoml_answering_500_are_failing(line: str, cli: Any, tmp_path: Path) -> None:
    """TorchServe's ACCESS_LOG and BentoML's access lines are requests: a server whose only trace of failure is its
    access lines answering 500 was reported HEALTHY ("No problem found"); now failing, and the same lines answering 200
    are healthy, with the requests counted."""
    for status, code in (("500", 1), ("200", 0)):
        paste = tmp_path / f"access-{status}.txt"
        paste.write_text("".join(line.format(i=i, status=status) for i in range(5)))
        run = cli("check", str(paste), "--format", "json")
        assert run.code == code, run.out
        report = json.loads(run.out)
        if code:
            assert report["findings"][0]["rule_id"] == "unexplained-failure"
            assert "5 of 5 requests" in report["findings"][0]["title"], report["findings"][0]["title"]
    request = parse_line(line.format(i=1, status="503").encode())
    assert request is not None and (request.method, request.path, request.status) == (
        "POST", "/predictions/linear" if "ACCESS_LOG" in line else "/predict", 503)
    assert request.latency_ms == (10.0 if "ACCESS_LOG" in line else 25.041) and request.time is not None


def test_uvicorn_server_answering_500_is_failing(cli: Any, tmp_path: Path) -> None:
    """A uvicorn server (KServe, MLServer, FastAPI) whose only trace of failure is its access lines (generated text in
    uvicorn's access format, no traceback) answers 5xx: failing, never healthy; the same log answering 200 is healthy."""
    head = ("INFO:     Started server process [1]\nINFO:     Waiting for application startup.\n"
            "INFO:     Application startup complete.\n"
            "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)\n")
    for status, code in (("500 Internal Server Error", 1), ("200 OK", 0)):
        paste = tmp_path / f"uvicorn-{status[:3]}.txt"
        paste.write_text(head + "".join(f'INFO:     10.0.0.5:5123{i} - "POST /v1/models/iris:predict HTTP/1.1" {status}\n'
                                        for i in range(4)))
        run = cli("check", str(paste), "--format", "json")
        assert run.code == code, run.out


CLOUD_REFUSALS = [
    ("k-sagemaker-studio-create-endpoint-config-explicit-deny-service-control-policy", "studio-deploy-error.txt",
     "is not authorized to perform: sagemaker:CreateEndpointConfig", "deploy-failed"),
    ("k-vertex-model-upload-dir-expected-model-pkl-or-joblib-double-slash-path", "model-upload-error.txt",
     "FailedPrecondition: 400 Model directory", "model-not-found"),
]


@pytest.mark.parametrize("case,name,said,rule", CLOUD_REFUSALS)
def test_another_clouds_refusal_in_deploy_is_a_failed_deploy(tmp_path: Path, case: str, name: str, said: str,
                                                             rule: str) -> None:
    """A cloud SDK's refusal in `deploy/` with no `Message:` and no Azure code (AWS's `is not authorized to perform`,
    Google's `FailedPrecondition: 400 …`) is a failed deploy output quoting its line: both were reported healthy. Pasted
    elsewhere the same line is not a deploy output; a deploy file without a failing line is none either."""
    text = (ROOT / "fixtures/corpus" / case / "deploy" / name).read_text()
    [fact] = deploy_output.read_deploy_output(text, "deploy/x.txt", placed=True)
    assert fact.values["failed"] and said in fact.values["message"]
    assert deploy_output.read_deploy_output(text, "pasted/x.txt", placed=False) == []
    assert deploy_output.read_deploy_output("Creating endpoint\nEndpoint created: 200 OK\nUsing 4 workers\n", "d",
                                            placed=True) == []
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / name).write_text(text)
    code, report = _check_json(tmp_path)
    assert code == 1 and report["status"] == "failing" and report["findings"][0]["rule_id"] == rule


WORDED_FAILURES = [  # (case, the deploy/ file, what the fact's message says, the first finding)
    ("a-v2-cli-local-endpoint-create-docker-engine-not-reachable-macos-default-socket-disabled",
     "az_ml_online_endpoint_create_local.txt", "Unexpected error verifying an endpoint", "deploy-failed"),
    ("a-v2-k8s-extension-inference-helm-pod-healthcheck-failed-e45005-azureml-fe-deployment-conflict",
     "k8s_extension_install_error.excerpt.txt", "Helm Upgrade Failed", "deploy-failed"),
    ("a-v2-local-deployment-scoring-script-filenotfound-var-azureml-app-workspace-online-ep-scoring",
     "az_ml_online_deployment_create_local.debug-tail.excerpt.txt", "Local deployment (tag840-test2 / deployment14) is in failed state",
     "init-failure"),
    ("a-v2-k8s-online-deployment-cli-registry-environment-not-supported-for-k8sdeployment",
     "error_message.quoted.txt", "Registry reference for environments is not supported", "deploy-failed"),
]


@pytest.mark.parametrize("case,name,said,rule", WORDED_FAILURES)
def test_a_short_deploy_output_saying_it_failed_is_a_failed_deploy(case: str, name: str, said: str, rule: str) -> None:
    """A short text in `deploy/` whose line says it failed (the az CLI's logger lines, Helm's `Upgrade Failed`, a quoted
    message) is a failed deploy output quoting that line, without the CLI logger's name: all four cases were reported
    healthy. A container log saved there (`get-logs`: `worker timeout is set to 300`) is not read that way."""
    folder = ROOT / "fixtures/corpus" / case
    [fact] = deploy_output.read_deploy_output((folder / "deploy" / name).read_text(), "deploy/x.txt", placed=True)
    assert fact.values["failed"] and fact.values["message"].startswith(said.split(" (")[0])
    assert "azclierror" not in fact.values["message"]
    code, report = _check_json(folder)
    assert code == 1 and report["findings"][0]["rule_id"] == rule
    log = (ROOT / "fixtures/corpus/a-v1-aci-healthy-control-automl-get-logs-rsyslogd-libuuid-spark-home-not-set-fontmanager"
           / "deploy" / "get_logs.txt").read_text()
    assert not any(f.values.get("failed") for f in deploy_output.read_deploy_output(log, "deploy/get_logs.txt", placed=True))


def test_a_pods_table_ends_at_the_next_prompt_of_the_terminal_session() -> None:
    """A `kubectl get pods` table followed by the next command at a prompt that names its user and host (under an alias
    the splitter does not know: `kc logs …`, vllm-project/semantic-router#551): the command's output is a log, not rows
    of the table (it was, and the loader's `GLIBC_2.39` line never reached a rule)."""
    import io

    text = (b"$ kc get pods -n vllm-semantic-router-system\n"
            b"NAME                              READY   STATUS             RESTARTS      AGE\n"
            b"semantic-router-db8694578-clpct   0/1     CrashLoopBackOff   4 (48s ago)   3m4s\n"
            b"ubuntu@sanjeev3-ubuntu:~/repos/github.com/srampal/semantic-router$ kc logs semantic-router-db8694578-clpct\n"
            b"/app/extproc-server: /lib64/libc.so.6: version `GLIBC_2.39' not found (required by /app/lib/libx.so)\n")
    parts = split(io.BytesIO(text))
    assert [(p.kind, p.first_line) for p in parts][-2:] == [("pods", 2), ("log", 4)]
    assert parts[-2].lines[-1].startswith("semantic-router-db8694578-clpct")
    assert b"GLIBC_2.39" in text[parts[-1].start:parts[-1].end]


def test_a_connect_timeout_inside_a_clients_error_is_a_call_without_answer() -> None:
    """urllib3's `Connection to HOST timed out. (connect timeout=N)` inside the az CLI's error (Azure/AML-Kubernetes#282): a
    call that never connected (`connect_timeout`, not a slow answer), and the address it tried."""
    text = ("cli.azure.cli.core.azclierror: (<urllib3.connection.HTTPConnection object at 0x7fc1dfebbee0>, 'Connection to "
            "10.0.227.236 timed out. (connect timeout=300)')\n")
    [fact], [log] = client_output.read_client_output(text, "client/invoke.txt")
    assert (fact.values["statuses"], fact.values["reason"], fact.values["host"]) == ([0], "connect_timeout", "10.0.227.236")
    assert b"error=connect_timeout" in log.open().read()


def test_a_grpc_channel_that_never_opened_is_a_call_without_answer() -> None:
    """tritonclient.grpc's `[StatusCode.UNAVAILABLE] failed to connect to all addresses` (its traceback posted on one line,
    isarsoft/yolov4-triton-tensorrt#15): no answer, the client library and the host:port the command line gave it."""
    text = ("$ python client.py -u 192.168.1.26:30353 imageTraceback (most recent call last):  File \"client.py\", line 120, "
            "in <module>    raise get_error_grpc(rpc_error) from Nonetritonclient.utils.InferenceServerException: "
            "[StatusCode.UNAVAILABLE] failed to connect to all addresses\n")
    [fact], _ = client_output.read_client_output(text, "client/out.txt")
    assert fact.values["reason"] == "grpc_unavailable"
    assert fact.values["grpc"] == {"client": "tritonclient", "target": "192.168.1.26:30353", "port": "30353"}
    assert client_output.grpc_call("HTTP/1.1 200 OK\n") is None


def test_a_status_text_naming_a_failure_in_any_case_is_never_a_successful_deploy() -> None:
    """A deploy output counts as the platform's word on the deployment: one that says `failed`, `FAILED`, `DEPLOY_FAILED`,
    `UNHEALTHY` or an exception with its cause in parentheses (`RayTaskError(SyntaxError):`) has failed, whatever its
    case (Ray Serve's `serve status` was taken for an Azure ML v1 output that did not fail, and reported healthy)."""
    for text in ("Deployment failed: see the log\n", "Service deployment polling: state: FAILED\n",
                 "wait_for_deployment: status unhealthy\n", "Operation ID: 1\nray.exceptions.RayTaskError(SyntaxError): x\n"):
        [fact] = deploy_output.read_deploy_output(text, "pasted/x.txt")
        assert fact.values["failed"], text
    ok = "ACI service creation operation finished, operation \"Succeeded\"\nHealthy\n"
    [fact] = deploy_output.read_deploy_output(ok, "pasted/x.txt")
    assert not fact.values["failed"]
    # a setting's name is no failure: a v2 deployment's YAML echoed by a successful create
    ok = ('Operation ID: 1\n{"provisioning_state": "Succeeded", "liveness_probe": {"failure_threshold": 30, '
          '"timeout": 2}}\n')
    [fact] = deploy_output.read_deploy_output(ok, "pasted/x.txt")
    assert not fact.values["failed"]


def test_ray_serve_status_is_a_deploy_output_with_its_message() -> None:
    """`serve status` (ray-project/ray#33118, #33579; #38185's RUNNING output): the application's status, the exception
    its failed status's message ends with (the cause Ray wraps), and whether the application's own code raised it."""
    syntax = (CORPUS / "k-rayserve-import-path-module-syntax-error-deploy-failed-no-detail-available" / "pasted"
              / "serve-status.txt").read_text()
    [fact] = deploy_output.read_deploy_output(syntax, "pasted/serve-status.txt")
    serve = fact.values["serve"]
    assert fact.values["failed"] and fact.values["state"] == "DEPLOY_FAILED"
    assert fact.values["message"] == "ray.exceptions.RayTaskError(SyntaxError): <no detail available>"
    assert (serve["exception"], serve["wrapper"], serve["at_import"], serve["in_app"]) == ("SyntaxError", "RayTaskError", True, True)
    key = (CORPUS / "k-rayserve-config-names-deployment-not-in-app-deploy-failed-keyerror-app3-modell" / "pasted"
           / "serve-status.txt").read_text()
    [fact] = deploy_output.read_deploy_output(key, "pasted/serve-status.txt")
    assert fact.values["message"] == "KeyError: 'app3_Modell'"
    assert (fact.values["serve"]["exception"], fact.values["serve"]["in_app"]) == ("KeyError", False)
    running = ("proxies:\n  090fe807117c1d14aa3eedfe734467aaa95915f893a80a4b01016588: HEALTHY\napplications:\n  default:\n"
               "    status: RUNNING\n    message: ''\n    last_deployed_time_s: 1691541115.2581592\n    deployments:\n"
               "      default_Hello:\n        status: HEALTHY\n        replica_states:\n          RUNNING: 3\n        message: ''\n")
    [fact] = deploy_output.read_deploy_output(running, "pasted/serve-status.txt")
    assert not fact.values["failed"] and fact.values["state"] == "RUNNING"
    user = ("applications:\n  default:\n    status: DEPLOY_FAILED\n    message: |-\n      Deployment failed:\n"
            "      Traceback (most recent call last):\n"
            '        File "/home/ray/app/model.py", line 3, in <module>\n          raise ValueError("no MODEL_DIR")\n'
            "      ValueError: no MODEL_DIR\n")
    serve = deploy_output.serve_status(user)
    assert serve and serve["app_frame"] == {"file": "/home/ray/app/model.py", "line": 3, "func": "<module>"}
    assert serve["at_import"] and serve["in_app"] and serve["detail"] == "no MODEL_DIR"
    assert deploy_output.serve_status("status: RUNNING\n") is None  # no Ray Serve around it


@pytest.mark.parametrize("statuses, serving", [
    ("app: RUNNING, deployment: HEALTHY, proxy: HEALTHY", True),
    ("app: RUNNING, deployment: HEALTHY, proxy: STARTING", False),  # ray-project/kuberay#1841: nothing listened on 8000
    ("app: DEPLOYING, deployment: UPDATING", False), ("app: NOT_STARTED", False),
    ("app: RUNNING, deployment: UPSCALING, proxy: HEALTHY", True),
])
def test_a_ray_serve_status_is_the_platforms_word_that_it_works_only_when_all_of_it_serves(statuses: str,
                                                                                         serving: bool) -> None:
    """`serve status` that did not fail counts as evidence that the service works (a clean check may say `healthy`)
    only when the application is RUNNING and every deployment and proxy listed is too: an application RUNNING beside
    a proxy still STARTING, or one still DEPLOYING, shows no working service, so such a check is `unknown`."""
    from doctor.evidence import ConfigFact, Evidence, Target
    from doctor.status import runtime_evidence

    listed = dict(part.split(": ") for part in statuses.split(", "))
    evidence = Evidence(Target("bundle", "b"))
    evidence.configs.append(ConfigFact("pasted/serve-status.txt", "deploy-output", {
        "failed": False, "serve": {"status": listed["app"], "statuses": list(listed.values())}}))
    assert ("deploy output" in runtime_evidence(evidence)) is serving


def test_a_pasted_serve_status_with_a_proxy_still_starting_is_no_healthy_service(cli: Any, tmp_path: Path) -> None:
    """`serve status` of an application RUNNING while its HTTP proxy is still STARTING (ray-project/kuberay#1841:
    nothing answered on port 8000) is checked `unknown` with a note naming what is not serving; the same text with the
    proxy HEALTHY is a working service."""
    text = ("proxies:\n  090fe807117c1d14aa3eedfe734467aaa95915f893a80a4b01016588: STARTING\napplications:\n  default:\n"
            "    status: RUNNING\n    message: ''\n    last_deployed_time_s: 1691541115.2581592\n    deployments:\n"
            "      Model:\n        status: HEALTHY\n        replica_states:\n          RUNNING: 1\n        message: ''\n")
    (tmp_path / "pasted").mkdir()
    (tmp_path / "pasted" / "serve-status.txt").write_text(text)
    run = cli("check", str(tmp_path), "--format", "json")
    assert run.code == 3, run.err
    assert any("not serving yet (STARTING)" in note for note in run.json()["notes"])
    (tmp_path / "pasted" / "serve-status.txt").write_text(text.replace(": STARTING", ": HEALTHY"))
    assert cli("check", str(tmp_path), "--format", "json").code == 0
