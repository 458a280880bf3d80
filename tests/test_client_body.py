"""What a scoring client printed of a failed answer: the status (urllib, the studio's Consume sample) and the body's
error message, which is often the only place the reason a request failed shows. Texts are real:
tests/data/pasted/SOURCES.md and the corpus cases' source.md say where each is from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from doctor.collect import client_body, client_output
from doctor.collect.pasted import read_file
from doctor.evidence import Evidence, Target

DATA = Path(__file__).parent / "data" / "pasted"
ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "fixtures" / "corpus"


def _client_fact(path: Path) -> dict:
    evidence = Evidence(Target("bundle", "test"))
    read_file(path, f"client/{path.name}", "client", evidence)
    [fact] = [c for c in evidence.configs if c.kind == "client-output"]
    return fact.values


def _first_finding(bundle: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(bundle), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["findings"][0]


def test_consume_sample_status_and_bytes_body() -> None:
    """The studio's Consume sample prints the status, then the body as a bytes literal."""
    values = _client_fact(DATA / "songpopularity-consume-502-body.txt")
    assert values["statuses"] == [502]
    assert values["answer_message"] == "run() got an unexpected keyword argument 'GlobalParameters'"
    assert values["answer_message_generic"] is False


@pytest.mark.parametrize("name, answer", [
    ("promptflow-open-source-llm-424.txt", (424, "Failed Dependency")),  # urllib's HTTPError inside a tool's message
])
def test_urllib_http_error_gives_the_status(name: str, answer: tuple[int, str]) -> None:
    [found] = client_output.answers((DATA / name).read_text())
    assert (found.status, found.reason) == answer


def test_v1_sdk_content_bytes_literal() -> None:
    values = _client_fact(CORPUS / "a-v1-aci-502-run-unexpected-keyword" / "client" / "service_run_error.txt")
    assert values["answer_message"] == "run() got an unexpected keyword argument 'method'"


@pytest.mark.parametrize("body, message", [
    ('{"detail":"Not Found"}', "Not Found"),  # run-llama/llama_index#16950 (a-v2-424-failed-dependency-container-404)
    ('{"message": "Scoring timeout after 1000 ms"}', "Scoring timeout after 1000 ms"),  # azureml-facts.md §3.3
    ("<html><head><title>502 Bad Gateway</title></head></html>", None),  # a proxy's page says nothing of run()
    ("", None),
])
def test_message_of_body_formats(body: str, message: str | None) -> None:
    assert client_body.message_of(body) == message


def test_inference_server_generic_body_is_marked_generic() -> None:
    """azmlinfsrv answers a run() exception with a generic message: the cause is only in the container log."""
    values = _client_fact(DATA / "recorded" / "curl-i-score-424.txt")
    assert values["answer_message"].startswith("An unexpected error occurred in scoring script")
    assert values["answer_message_generic"] is True


def test_the_body_names_the_key_run_does_not_accept(tmp_path: Path) -> None:
    """The Consume sample's 502: the finding quotes the body and says which key to drop from the request."""
    (tmp_path / "client").mkdir()
    shutil.copy(DATA / "songpopularity-consume-502-body.txt", tmp_path / "client" / "consume.txt")
    finding = _first_finding(tmp_path)
    assert finding["rule_id"] == "scoring-error"
    assert "unexpected keyword argument 'GlobalParameters'" in finding["cause"]
    assert "drop `GlobalParameters`" in finding["fix"]


def test_proxy_html_page_is_not_quoted_as_the_cause(tmp_path: Path) -> None:
    (tmp_path / "client").mkdir()
    shutil.copy(DATA / "mlopspython-157-smoke-test-502.txt", tmp_path / "client" / "smoke.txt")
    shutil.copy(DATA / "recorded" / "curl-i-score-502.txt", tmp_path / "client" / "curl.txt")
    finding = _first_finding(tmp_path)
    assert finding["rule_id"] == "scoring-error" and "body says" not in finding["cause"]


# --- answers that only a client library's log, a server's error body or a terminal transcript shows ------------------

OLLAMA_PROXY = CORPUS / "k-ollama-openai-client-502-bad-gateway-retries-from-local-http-proxy-not-the-chat-completions-path"
ORT_NAME = CORPUS / "k-onnxruntime-server-predict-500-no-model-loaded-of-that-name-url-model-not-default"
FLASK_CONTROL = CORPUS / "k-flask-bert-healthy-control-curl-data-filename-without-at-sign-400-bad-request"


def _check(bundle: Path) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(bundle), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, json.loads(proc.stdout)


def test_httpx_request_lines_are_the_answers_the_openai_client_got() -> None:
    """httpx's INFO line for each answer (`HTTP Request: POST URL "HTTP/1.1 502 Bad Gateway"`), as the OpenAI client's
    console shows three (heshengtao/comfyui_LLM_party#160, verbatim): status, reason, path and the host called."""
    values = _client_fact(OLLAMA_PROXY / "client" / "comfyui-console.txt")
    assert values["statuses"] == [502, 502, 502] and values["reason"] == "Bad Gateway"
    assert {a["path"] for a in values["answers"]} == {"/v1/chat/completions"}
    assert (values["host"], values["loopback"], values["body"]) == ("127.0.0.1", True, None)


def test_the_openai_clients_error_code_alone_is_an_answer() -> None:
    # generated: the last line of that console without the httpx lines before it
    [fact], [log] = client_output.read_client_output("Error code: 502\n", "client/x.txt")
    assert fact.values["statuses"] == [502] and fact.values["body"] is None


def test_httpx_lines_in_a_pasted_server_log_are_not_its_answers() -> None:
    # generated: a server's own outgoing call logged by httpx beside its start-up is not a client's answer
    text = ('INFO:     Application startup complete.\n'
            'HTTP Request: GET https://huggingface.co/api/models/x "HTTP/1.1 404 Not Found"\n')
    assert client_output.read_client_output(text, "pasted/x.txt", pasted=True) == ([], [])


@pytest.mark.parametrize("body, status, message", [
    ("{'error_code': 500, 'error_message': 'No model loaded of that name.'}", 500, "No model loaded of that name."),  # onnx/tutorials#155
    ('{"error_code": 400, "error_message": "generated \\"message\\""}', 400, 'generated "message"'),  # generated: the JSON
    # as onnxruntime's server/http/json_handling.cc CreateJsonError writes it
])
def test_onnx_runtime_servers_error_body_is_an_answer(body: str, status: int, message: str) -> None:
    [fact], [log] = client_output.read_client_output(body + "\n", "client/predict-response.txt")
    assert (fact.values["statuses"], fact.values["answer_message"]) == ([status], message)
    assert fact.values["answers"][0]["path"] == "-"  # no URL in the output: not taken for Azure ML's `/score`


def test_a_later_commands_output_is_not_the_answers_body() -> None:
    """A terminal transcript (sarnikowski/bert_in_a_flask#6, verbatim): Flask's 400 page, then `cat t1.json` after the
    next prompt prints the request file; the file is not the answer's body. `--data t1.json` sent the file's name."""
    values = _client_fact(FLASK_CONTROL / "client" / "terminal.txt")
    assert values["statuses"] == [400] and values["body"] is None and values["answer_message"] is None
    assert values["data_file_name"] == "t1.json"


@pytest.mark.parametrize("line, name", [
    ('curl -H "Content-Type: application/json" --request POST --data t1.json http://localhost:5000/predict', "t1.json"),
    ("curl -X POST -d input.json http://localhost:8080/predictions/m", "input.json"),  # generated
    ("curl -X POST -d @input.json http://localhost:8080/predictions/m", None),  # generated: curl reads the file
    ("""curl -X POST -d '{"f": "a.json"}' http://localhost:8080/predict""", None),  # generated: inline JSON
])
def test_curl_given_a_file_name_without_at(line: str, name: str | None) -> None:
    assert client_output.data_file_name(line) == name


def test_a_refusal_of_a_file_name_sent_as_the_body_keeps_no_reason_of_the_servers() -> None:
    # generated: the same mistake, answered by a server whose 400 carries a JSON message
    text = ('$ curl -i -X POST -d t1.json http://localhost:8000/predict\nHTTP/1.1 400 Bad Request\n'
            'content-type: application/json\n\n{"message": "Failed to decode JSON object"}\n$ cat t1.json\n{"x": [1]}\n')
    [fact], _ = client_output.read_client_output(text, "client/terminal.txt")
    assert fact.values["statuses"] == [400] and fact.values["data_file_name"] == "t1.json"
    assert fact.values["body"] == '{"message": "Failed to decode JSON object"}' and fact.values["answer_message"] is None


def test_a_local_proxys_502s_are_a_failure_with_the_proxy_to_bypass() -> None:
    code, report = _check(OLLAMA_PROXY)
    [first, *_] = report["findings"]
    assert (code, first["rule_id"], first["values"]["hint"]) == (1, "unexplained-failure", "proxy")
    assert "502" in first["cause"] and "NO_PROXY=localhost,127.0.0.1" in first["fix"]


def test_onnx_runtime_servers_wrong_model_name_names_the_url_to_call() -> None:
    code, report = _check(ORT_NAME)
    [first, *_] = report["findings"]
    assert (code, first["rule_id"], first["values"]["hint"]) == (1, "unexplained-failure", "onnx_model_name")
    assert "No model loaded of that name." in first["cause"] and "/v1/models/default/versions/1:predict" in first["fix"]


def test_a_file_name_sent_as_the_body_is_the_callers_mistake_not_a_failing_service() -> None:
    code, report = _check(FLASK_CONTROL)
    assert code in (0, 3) and not [f for f in report["findings"] if f["severity"] in ("warning", "error", "critical")]


GPUSTACK_CURL = CORPUS / ("k-gpustack-server-proxy-503-all-connection-attempts-failed-worker-docker-run-publishes-only-10150-"
                          "not-40000-41024") / "client" / "curl-chat-completions.txt"
GPUSTACK_CHAT = CORPUS / ("k-gpustack-docker-publishes-61000-62024-to-40000-41024-server-dials-40000s-all-connection-"
                          "attempts-failed") / "client" / "chat-error.txt"


def test_a_json_error_body_before_zshs_no_newline_mark_is_the_answer() -> None:
    """curl's body has no newline at its end, so zsh prints its `%` after it (gpustack/gpustack#1386 as posted)."""
    values = _client_fact(GPUSTACK_CURL)
    assert values["statuses"] == [503]
    assert values["answer_message"] == "An unexpected error occurred: All connection attempts failed"
    assert values["answers"][0]["path"] == "/v1/chat/completions"


@pytest.mark.parametrize("text, message", [
    ('{"error":{"message":"generated","code":503}}%\n', "generated"),  # generated: no trailing spaces
    ('{"error":{"message":"generated","code":503}}\n', "generated"),
])
def test_zshs_mark_is_not_part_of_the_json(text: str, message: str) -> None:
    [fact], _ = client_output.read_client_output(text, "client/x.txt")
    assert fact.values["statuses"] == [503] and fact.values["answer_message"] == message


def test_gpustacks_503_message_alone_is_an_answer() -> None:
    """The chat UI shows GPUStack's proxy error without a status (gpustack/gpustack#1288); GPUStack answers it as 503."""
    values = _client_fact(GPUSTACK_CHAT)
    assert values["statuses"] == [503] and values["answers"][0]["path"] == "-"
    assert values["answer_message"].endswith("Original error: All connection attempts failed")


def test_100_continue_is_no_answer_and_envoys_upstream_time_is_kept() -> None:
    """curl -v through Istio's Envoy (kserve/kserve#1129 as posted): `< HTTP/1.1 100 Continue` is interim, the 504 is the
    answer; `x-envoy-upstream-service-time` says how long the upstream took; zsh's `%` is not part of the body."""
    values = _client_fact(CORPUS / "k-kfserving-istio-envoy-504-request-timeout-after-240s-predictor-timeout-60s-with-retries"
                          / "client" / "curl-v-predict.txt")
    assert values["statuses"] == [504] and values["upstream_ms"] == 240175 and values["server"] == "istio-envoy"
    assert values["body"] == "request timeout"


@pytest.mark.parametrize("last, body", [
    ("request timeout% ", "request timeout"),  # kserve/kserve#1129
    ("progress 100%", "progress 100%"),  # generated: a percent sign of the body's own
])
def test_zshs_mark_after_a_plain_body(last: str, body: str) -> None:
    text = f"< HTTP/1.1 504 Gateway Timeout\n< content-length: 15\n< \n{last}\n"
    assert client_body.body_of(text) == body
