"""The client's side of scoring calls recognised by content: `curl -i` / `curl -v` output (status line and headers
such as `x-ms-request-id`, `azureml-model-error-statuscode`, `ms-azureml-model-error-reason`), Python `HTTPError: 502
Server Error: ...`, urllib's `HTTP Error 502: Bad Gateway` and the studio Consume sample's `The request failed with
status code: 502`, the v1 SDK's `service.run(...)` error (`Response Code: 502`). The answer's body and the error
message in it (doctor/collect/client_body.py) are kept too: often the only place a client sees why `run()` failed.

Each answer becomes one line of an access-kind log in gunicorn's format, so the traffic rules (5xx, 429, 503, 504)
count it like a server-side access log line, and a `client-output` ConfigFact keeps the status codes and the Azure ML
headers for rules and the report. All patterns are linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from urllib.parse import urlsplit

from doctor.collect import client_body
from doctor.convert import parse_http_date
from doctor.evidence import ConfigFact, LogSource

_STATUS_LINE = re.compile(r"^[<\s]{0,4}HTTP/(?:\d(?:\.\d)?) (\d{3})(?: (.{0,200}))?$")
_HEADER = re.compile(r"^[<\s]{0,4}([A-Za-z][A-Za-z0-9-]{0,80}):\s?(.{0,2000})$")
# requests' `HTTPError: 502 Server Error: Bad Gateway for url: …`, also printed on its own (`raise_for_status()` messages)
_HTTP_ERROR = re.compile(r"(?:^|HTTPError: )(\d{3}) (?:Client|Server) Error: ([^\n]{0,200}?) for url: (\S{1,2000})",
                         re.MULTILINE)
_RESPONSE_CODE = re.compile(r"Response Code: (\d{3})")
# urllib's `HTTPError: HTTP Error 424: Failed Dependency` (also `print(error)` alone), and the Azure ML studio's
# Consume sample, which catches it and prints `The request failed with status code: 502`
_URLLIB_ERROR = re.compile(r"(?:^|HTTPError: )HTTP Error (\d{3}): ([^\n]{0,200})", re.MULTILINE)
# Docker Model Runner's CLI (and Go clients like it): `error response: status=500 body=unable to load runner: …`, the
# body running on over the next lines
_STATUS_BODY = re.compile(r"\berror response: status=([45]\d\d) body=([^\n]{0,2000}(?:\n(?!\s*$)[^\n]{0,2000}){0,5})")
_CONSUME_STATUS = re.compile(r"^The request failed with status code: (\d{3})", re.MULTILINE)
_SCORING_SDK = re.compile(r"bad response from service", re.IGNORECASE)  # v1 `service.run` (not the management API)
_OVERLOADED = re.compile(r"Too many requests for service \S{1,200} \(overloaded\)")  # v1 front end's 503 body
# the Azure ML inference server's 500 body when run() raised, as Azure ML studio's Test tab or a client prints it alone
# (`Failed to test model: An unexpected error occurred in scoring script. Check the logs for more info.`)
_RUN_FAILED = re.compile(re.escape(client_body.GENERIC[0]) + r"\.?(?: Check the logs for more info\.)?")
# the az CLI's own error line for an exception its command raised (`az ml online-endpoint invoke`: `Met error <class
# 'Exception'>:Invalid input format: expected an array of items.`; MicrosoftLearning/mslearn-aml-cli#4)
_AZ_MET_ERROR = re.compile(r"Met error <class '(?:[\w.]+\.)?(\w{1,80})'>:\s?([^\n]{1,2000})")
# MLflow's scoring server refusing the request's content type (its 415, the body printed alone)
_MLFLOW_CONTENT_TYPE = re.compile(r"This predictor only supports the following content types,? [^\n]{0,600}?Got '[^'\n]{0,200}'\.?")
_INVALID_STATUS = re.compile(r"Operation returned an invalid status '([A-Za-z -]{2,60})'")  # azure-core, v2 SDK invoke
# The front end's Go client giving up on the container (its message is the body the caller gets).
_FRONT_END_TIMEOUT = re.compile(r"^(?:Post|POST) https?://\S{1,2000}: net/http: request canceled \(Client\.Timeout exceeded",
                                re.MULTILINE)  # not a probe's `Readiness probe failed: Get http://…: net/http: …`
_CONNECTION = re.compile(r"^(?:[\w.]{0,80}\.)?(?:ConnectionError|ReadTimeout|ConnectTimeout|ProtocolError|"
                         r"RemoteDisconnected): [^\n]{0,2000}", re.MULTILINE)  # the exception line, not a traceback's source line
# curl's own transport errors (no HTTP answer at all): (6) host not resolved, (7) refused, (28) timeout, (35) TLS,
# (52) empty reply, (56) reset; also quoted inside a sentence (`I get \`curl: (56) Recv failure: …\``)
_CURL_ERROR = re.compile(r"curl: \((6|7|28|35|52|56)\) ([^\n`]{1,300})")
# urllib3's connect timeout, inside a client's own error (the az CLI's `azclierror: (<urllib3.connection.HTTPConnection
# object at 0x…>, 'Connection to 10.0.227.236 timed out. (connect timeout=300)')`): no answer, and the address it tried
_CONNECT_TIMEOUT = re.compile(r"Connection to ([\w.:\[\]-]{1,255}) timed out\. \(connect timeout=[\d.]+\)")
# gRPC's own failure to open a channel (a gRPC client pointed at a port that does not speak gRPC: an HTTP port, or nothing)
_GRPC_UNAVAILABLE = re.compile(r"\[?StatusCode\.UNAVAILABLE\]? ?:? ?(failed to connect to all addresses[^\n]{0,300})")
# the address a command line or a client was given (`client.py -u 192.168.1.26:30353`, `grpcurl localhost:8001`)
_TARGET = re.compile(r"(?<![\w.:/-])((?:\d{1,3}(?:\.\d{1,3}){3}|localhost|[\w-]+(?:\.[\w-]+)+):(\d{2,5}))(?![\w.:-])")
_CURL_KINDS = {"6": "refused", "7": "refused", "28": "timeout", "35": "reset", "52": "empty_reply", "56": "reset"}
# curl asked to resolve a "host" that is a piece of the command line: a shell that split the arguments (Windows cmd.exe
# takes single quotes literally, so `-H 'Content-Type: application/json'` and `-d '{"x": [1, 2.0]}'` become words curl
# reads as URLs: `curl: (6) Could not resolve host: format=pandas-split'`, `(3) [globbing] bad range`); those lines are
# the client's own, about no server (mlflow/mlflow#4313, tensorflow/serving#1704)
_CURL_HOST = re.compile(r"curl: \(6\) Could not resolve host: (\S{1,300})")
_HOST_NAME = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?)*\.?$")
_CURL_SPLIT = re.compile(r"curl: \(3\) (?:\[globbing\]|URL using bad/illegal format|URL rejected: Bad hostname)")
# Envoy's own answers (Istio, Knative, KServe's gateways) when it has no working connection to the container: the
# text is the body of a 503 (504 for its route timeout); a client that prints only the body shows only this.
_ENVOY_REPLY = re.compile(r"\b(upstream connect error or disconnect/reset before headers\. (?:retried and the latest )?"
                          r"reset reason: [\w ]{1,80}|no healthy upstream|upstream request timeout)\b")
_URL = re.compile(r"(https?://[^\s'\"]{1,2000})")
# a browser's own error page (Chromium's net error codes): no HTTP answer at all
_BROWSER_ERROR = re.compile(r"\bERR_(EMPTY_RESPONSE|CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|TIMED_OUT)\b")
_BROWSER_KINDS = {"EMPTY_RESPONSE": "empty_reply", "CONNECTION_REFUSED": "refused", "CONNECTION_RESET": "reset",
                  "CONNECTION_CLOSED": "empty_reply", "TIMED_OUT": "timeout"}
_REQUESTS_REPR = re.compile(r"<Response \[(\d{3})\]>")  # python-requests' `print(response)`
# a proxy's or web server's own error page (nginx, ingress-nginx, Apache): its status is in its title
_HTML_ERROR_PAGE = re.compile(r"<title>\s{0,4}([45]\d\d) ([^<\n]{1,80}?)\s{0,4}</title>", re.IGNORECASE)
# an error body printed alone: a JSON object with an HTTP error `code` and a `message` (the OpenAI-compatible servers'
# `{"object":"error","message":"…","type":"NotFoundError","param":null,"code":404}`, TorchServe's `{"code": 503, …}`)
# (zsh marks output that did not end with a newline, as curl's body does not, with a `%` after it: its PROMPT_EOL_MARK;
# gpustack/gpustack#1386 as posted)
_JSON_ERROR = re.compile(r'^\s*(\{[^\n]{0,4000}"code"\s*:\s*([45]\d\d)\b[^\n]{0,4000}\})[ \t]*%?\s*$', re.MULTILINE)
# the same written over several lines, as `curl` prints TorchServe's `{\n  "code": 503,\n  "type": …,\n  "message": …\n}`
_JSON_ERROR_LINES = re.compile(r'^[ \t]{0,8}(\{[ \t]*\n(?:[ \t]+"[^"\n]{1,80}"[ \t]*:[^\n]{0,2000}\n){1,20}[ \t]{0,8}\})[ \t]*$',
                               re.MULTILINE)  # maybe indented as a whole (a Markdown code block's tab, kept verbatim)
_JSON_CODE_LINE = re.compile(r'^[ \t]+"code"[ \t]*:[ \t]*([45]\d\d)\b', re.MULTILINE)  # its `"code": 503,` line
# GPUStack's server, the proxy in front of its inference instances, when it cannot reach one: its 503 message (the
# chat UI shows it alone; gpustack/gpustack#1288), the error of its HTTP client after `Original error: `
_GPUSTACK_503 = re.compile(r"\bService unavailable\. Please retry your requests after a brief wait\.(?: Original error: [^\n]{1,500})?")
_REQUEST_LINE = re.compile(r"^>\s?([A-Z]{3,7}) (/\S{0,2000}) HTTP/")
# ollama-python's error for an answer of the server: `ResponseError: <the server's error> (status code: 500)`
_OLLAMA_ERROR = re.compile(r"\bResponseError: ([^\n]{1,500}?) \(status code: ([45]\d\d)\)")
# a client library's exception printed alone (no HTTP answer shown): `ContextWindowExceededError: request (…) exceeds …`
_CLIENT_EXCEPTION = re.compile(r"^[ \t]{0,8}(?:raise [^\n]{0,300}? from None )?(?:[A-Za-z_][\w]{0,60}\.){0,6}"
                               r"([A-Z]\w{0,80}(?:Error|Exception)): ([^\n]{1,2000})$", re.MULTILINE)
# the OpenAI Python client's error for an answer (APIStatusError printed): `Error code: 400 - {'object': 'error',
# 'message': '…', 'type': 'BadRequestError', …}`, the body a Python dict's repr; its message read by a pattern
_OPENAI_ERROR = re.compile(r"^(?:[\w.]{1,80}Error: )?Error code: ([45]\d\d)(?: - (\{[^\n]{0,4000}\}))?\s*$", re.MULTILINE)
_REPR_MESSAGE = re.compile(r"""['"]message['"]: (['"])((?:(?!\1)[^\\\n]|\\.){1,2000})\1""")
# httpx's log line for each answer it got (INFO, logger `httpx`: the OpenAI Python client >= 1.0 and every library built
# on httpx print it when logging is on): `HTTP Request: POST http://127.0.0.1:11434/v1/chat/completions "HTTP/1.1 502
# Bad Gateway"`; the OpenAI client's `Retrying request to /chat/completions in 0.41 seconds` between them are its retries
_HTTPX_LINE = re.compile(r'HTTP Request: ([A-Z]{3,7}) (https?://[^\s"\n]{1,2000}) "HTTP/\d(?:\.\d)? (\d{3})(?: ([^"\n]{0,200}))?"')
_OPENAI_RETRY = re.compile(r"Retrying request to /[^\s\n]{0,2000} in \d")
# ONNX Runtime Server's error body (server/http/json_handling.cc `CreateJsonError`): `{"error_code": 500,
# "error_message": "No model loaded of that name."}`, or the same printed as a Python dict (a notebook's `r.json()`)
_ERROR_CODE_BODY = re.compile(r"""^[ \t]{0,8}(\{[ \t]{0,8}['"]error_code['"][ \t]{0,8}:[ \t]{0,8}([45]\d\d)[ \t]{0,8},[^\n]{0,4000}\})[ \t]*$""",
                              re.MULTILINE)
_ERROR_MESSAGE = re.compile(r"""['"]error_message['"][ \t]{0,8}:[ \t]{0,8}(['"])((?:(?!\1)[^\\\n]|\\.){1,2000})\1""")
# a shell prompt at the start of a line of a terminal transcript (`[user@host dir]$ `, `user@host:~$ `, `$ `): what
# follows is the next command and its output, not more of the answer before it
_PROMPT = re.compile(r"^(?:\([\w.-]{1,80}\) )?(?:\[[\w.-]{1,80}@[\w.-]{1,200} [^\]\n]{0,300}\][$#]|[\w.-]{1,80}@[\w.-]{1,200}:[^\s\n]{0,300}[$#]|\$)(?: |$)",
                     re.MULTILINE)
# curl given a file's name as its body without the `@` that makes it read the file (`--data t1.json`): it sends the
# name itself (sarnikowski/bert_in_a_flask#6); the server refuses a body the caller never meant to send
_CURL_DATA_NAME = re.compile(r"\bcurl [^\n]{0,2000}?\s(?:-d|--data|--data-binary|--data-ascii)(?:\s+|=)['\"]?"
                            r"([\w./\\-]{0,200}\.(?:json|txt|csv|jsonl|ndjson))['\"]?(?=\s|$)", re.MULTILINE)
# a status code and the server's message, as a script prints an error answer (`print(r.status_code, r.text)`), or Go's
# `http.NotFound` body as curl prints it (`404 page not found`: Ambassador, Envoy Gateway and Go servers): read in a
# `client/` file only, where the text is a client's by the bundle's layout
_BARE_STATUS = re.compile(r"^([45]\d\d) ([A-Z][^\n]{3,2000}|page not found)$", re.MULTILINE)
# the body of an OpenAI-compatible completion (vLLM, SGLang, TGI's Messages API, llama.cpp, Ollama's /v1), which such a
# server sends only with a 200: `{"id":"chatcmpl-…","object":"chat.completion",…`
_COMPLETION = re.compile(r'^\s*\{\s*"id"\s*:\s*"(?:chatcmpl|cmpl)-[^"\n]{0,200}"\s*,\s*"object"\s*:\s*"(?:chat\.completion|text_completion)"',
                         re.MULTILINE)
# a server's own log (its workers, its start-up): an exception in it is the server's, not a client's call failing
_SERVER_LOG = re.compile(r"\b(?:gunicorn\.error - |azmlinfsrv(?:\.\w+)* - |uvicorn\.error|Booting worker with pid|Listening at: "
                         r"|Uvicorn running on |Application startup complete|ready for serving traffic)")
# Python's own exception classes: printed alone in a paste, they are a program's (a server stopping at start: vLLM's
# `ValueError: Quantization method specified in the model config (gptq) does not match …`), not a client library's
_PYTHON_BUILTIN_ERRORS = frozenset({"ValueError", "RuntimeError", "KeyError", "TypeError", "AssertionError",
                                    "AttributeError", "IndexError", "NotImplementedError", "ImportError",
                                    "ModuleNotFoundError", "FileNotFoundError", "OSError", "PermissionError",
                                    "MemoryError", "SystemError", "ZeroDivisionError", "NameError"})
# how far a request goes over the model's context, in the servers' and clients' words: (requested, limit)
_CONTEXT_WORDS = (
    (re.compile(r"\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)"), (1, 2)),  # LiteLLM
    (re.compile(r'"n_prompt_tokens"\s*:\s*(\d+)\s*,\s*"n_ctx"\s*:\s*(\d+)'), (1, 2)),  # llama.cpp's server
    (re.compile(r"maximum context length is (\d+) tokens\. However, you requested (\d+) tokens"), (2, 1)),  # vLLM, OpenAI
    # Text Generation Inference's validation (huggingface/text-generation-inference#937: `inputs` must have less than
    # 1024 tokens. Given: 1872)
    (re.compile(r"`inputs` must have less than (\d+) tokens\. Given: (\d+)"), (2, 1)),
)


# the product that wrote an error page (its footer, `<center>nginx/1.10.0 (Ubuntu)</center>`, or that line as a browser
# shows it) or the answer's `Server:` header: a proxy's own answer names no model server
_SIGNATURE = re.compile(r"^\s*(?:<hr>)?(?:<center>)?((?:nginx|openresty|Apache|Microsoft-Azure-Application-Gateway|awselb|envoy)"
                        r"(?:/[\d.]+)?(?: \([^)\n]{1,40}\))?)(?:</center>)?\s*$|^(?:< )?[Ss]erver: ((?:nginx|openresty|Apache|awselb|istio-envoy|envoy)\S*)",
                        re.MULTILINE)


def server_signature(text: str) -> str | None:
    """The web server or proxy an answer names itself by (`nginx/1.10.0 (Ubuntu)`), or None."""
    found = _SIGNATURE.search(text)
    return (found.group(1) or found.group(2)) if found else None


def context_limit(text: str) -> dict[str, int] | None:
    """{requested, limit} in tokens when the output says a request exceeded the model's context; else None."""
    for pattern, (asked, limit) in _CONTEXT_WORDS:
        match = pattern.search(text)
        if match:
            return {"requested": int(match.group(asked)), "limit": int(match.group(limit))}
    return None
KEPT_HEADERS = ("x-ms-request-id", "x-request-id", "x-ms-client-request-id", "azureml-model-error-statuscode",
                "ms-azureml-model-error-statuscode", "azureml-model-error-reason", "ms-azureml-model-error-reason",
                "azureml-model-deployment", "x-ms-run-function-failed", "x-ms-server-version", "date", "location",
                "x-envoy-upstream-service-time")  # Envoy's: how long the upstream took, in ms (all its tries together)


@dataclass
class Answer:
    """One HTTP answer the client saw."""

    status: int
    reason: str = ""
    path: str = "/score"
    method: str = "POST"
    when: datetime | None = None
    headers: dict[str, str] | None = None

    def access_line(self) -> str:
        """The answer as a gunicorn access-log line (time `-` when the output did not say)."""
        when = self.when.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000") if self.when else "-"
        agent = f"client-output error={self.reason}" if self.status == 0 else "client-output"
        return f'client - - [{when}] "{self.method} {self.path} HTTP/1.1" {self.status:03d} 0 "-" "{agent}"'


def answers(text: str, split: bool | None = None) -> list[Answer]:
    """Every answer in the output, in order (`split`: `split_command(text)`, computed when not given)."""
    found: list[Answer] = []
    path, method = _path_of(text), "POST"
    current: Answer | None = None
    for line in text.splitlines():
        request = _REQUEST_LINE.match(line)
        if request:
            method, path = request.group(1), request.group(2)
            continue
        status = _STATUS_LINE.match(line)
        if status and status.group(1).startswith("1"):  # `100 Continue`: an interim answer, the real one follows
            current = None
            continue
        if status:
            current = Answer(int(status.group(1)), (status.group(2) or "").strip(), path, method, headers={})
            found.append(current)
            continue
        header = _HEADER.match(line) if current is not None else None
        if header and current is not None and current.headers is not None:
            _header(current, header.group(1).lower(), header.group(2).strip())
        elif not line.strip() or not header:
            current = None
    found += [Answer(int(m.group(1)), m.group(2), urlsplit(m.group(3)).path or path) for m in _HTTP_ERROR.finditer(text)]
    if not found and _SCORING_SDK.search(text) and "Model Management Service" not in text:
        found += [Answer(int(code), "", path) for code in _RESPONSE_CODE.findall(text)]
    if not found:
        found += [Answer(int(code), "", path) for code in _CONSUME_STATUS.findall(text)]
    if not found:
        found += [Answer(int(m.group(1)), m.group(2).strip(), path) for m in _URLLIB_ERROR.finditer(text)]
    if not found:
        found += [Answer(int(m.group(1)), "", path) for m in _STATUS_BODY.finditer(text)]
    if not found:  # an OpenAI-compatible server's completion printed without its status line: only a success has one
        found += [Answer(200, "", path) for _ in _COMPLETION.finditer(text)]
    return found or _worded(text, path, split_command(text) if split is None else split)


def _worded(text: str, path: str, split: bool) -> list[Answer]:
    """Answers a client printed without a status line: the v1 `(overloaded)` 503 body, azure-core's invalid status
    phrase, a connection reset or timeout (status 0, as `mldoctor probe` records it), Envoy's 503/504 bodies,
    python-requests' `<Response [503]>`, a browser's `ERR_EMPTY_RESPONSE` (no answer), nginx's error page (`<title>504
    Gateway Time-out</title>`); else a JSON error body with its `code` and `message` printed alone."""
    from http import HTTPStatus

    phrases = {s.phrase.lower(): s.value for s in HTTPStatus}
    found = [Answer(503, m.group(0), path) for m in _OVERLOADED.finditer(text)]  # the body says why: overloaded
    found += [Answer(phrases[m.group(1).lower()], m.group(1), path) for m in _INVALID_STATUS.finditer(text)
              if m.group(1).lower() in phrases]
    for match in _CONNECTION.finditer(text):
        found.append(Answer(0, _client_error(match.group(0)), path))
    found += [Answer(415, m.group(0), path) for m in _MLFLOW_CONTENT_TYPE.finditer(text)]
    found += [Answer(500, m.group(0), path) for m in _RUN_FAILED.finditer(text)][:1]
    found += [Answer(0, "connect_timeout", path) for _ in _CONNECT_TIMEOUT.finditer(text)][:1]
    found += [Answer(0, "grpc_unavailable", path) for _ in _GRPC_UNAVAILABLE.finditer(text)][:1]
    found += [Answer(0, _CURL_KINDS[m.group(1)], path) for m in _CURL_ERROR.finditer(text)
              if not (split and m.group(1) == "6")]
    found += [Answer(0, _BROWSER_KINDS[m.group(1)], path) for m in _BROWSER_ERROR.finditer(text)]
    found += [Answer(0, "timeout", path) for _ in _FRONT_END_TIMEOUT.finditer(text)]
    found += [Answer(504 if m.group(1) == "upstream request timeout" else 503, m.group(1).strip(), path)
              for m in _ENVOY_REPLY.finditer(text)]
    found += [Answer(int(m.group(1)), "", path) for m in _REQUESTS_REPR.finditer(text)]
    found += [Answer(int(m.group(2)), m.group(1), path) for m in _OLLAMA_ERROR.finditer(text)]
    found += [Answer(503, m.group(0), path if _URL.search(text) else "-") for m in _GPUSTACK_503.finditer(text)][:1]
    if "Model Management Service" not in text:  # (the v1 deploy API's own 504 page is not a scoring answer)
        found += [Answer(int(m.group(1)), m.group(2), path) for m in _HTML_ERROR_PAGE.finditer(text)]
    if not found:
        found += [Answer(int(m.group(2)), message, path) for m in _JSON_ERROR.finditer(text)
                  if (message := client_body.message_of(m.group(1))) and '"message"' in m.group(1)]
    if not found:
        for match in _JSON_ERROR_LINES.finditer(text):
            code = _JSON_CODE_LINE.search(match.group(1))
            message = client_body.message_of(match.group(1))
            if code and message and '"message"' in match.group(1):
                found.append(Answer(int(code.group(1)), message, path))
    if not found:  # ONNX Runtime Server's `{"error_code": 500, "error_message": …}`, as JSON or a Python dict
        # (not `/score` when the output names no URL: this server's routes are `/v1/models/NAME/versions/N:predict`,
        # and the call's own is unknown)
        where = path if _URL.search(text) else "-"
        found += [Answer(int(m.group(2)), message, where) for m in _ERROR_CODE_BODY.finditer(text)
                  if (message := _error_message(m.group(1)))]
    return found


def _error_message(body: str | None) -> str | None:
    """The `error_message` of an `error_code` body (JSON or a Python dict's repr), its quoting undone."""
    said = _ERROR_MESSAGE.search(body or "")
    return re.sub(r"\\(.)", r"\1", said.group(2)) if said else None


def _commands(text: str) -> list[str]:
    """A terminal transcript cut at its shell prompts: each command with its output (the text whole when it has none)."""
    starts = [m.span()[0] for m in _PROMPT.finditer(text)]  # (`.start()` reads as a container start to the source guard)
    if not starts:
        return [text]
    cuts = ([0] if starts[0] > 0 else []) + starts + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def httpx_answers(text: str) -> list[Answer]:
    """The answers httpx logged (`HTTP Request: POST URL "HTTP/1.1 502 Bad Gateway"`), each with its URL's path."""
    return [Answer(int(m.group(3)), (m.group(4) or "").strip(), urlsplit(m.group(2)).path or "/", m.group(1))
            for m in _HTTPX_LINE.finditer(text)]


_LOOPBACK = re.compile(r"^(?:localhost|127(?:\.\d{1,3}){3}|::1|0:0:0:0:0:0:0:1)$", re.IGNORECASE)


def grpc_call(text: str) -> dict[str, str | None] | None:
    """A gRPC client's call that could not open its channel: the client library (tritonclient) and the `host:port` it was
    given; None when the output shows no such failure."""
    if not _GRPC_UNAVAILABLE.search(text):
        return None
    target = _TARGET.search(text)
    return {"client": "tritonclient" if "tritonclient" in text else None, "target": target.group(1) if target else None,
            "port": target.group(2) if target else None}


def host_of(text: str) -> str | None:
    """The host the call went to: of httpx's request line, else of the first URL the output names."""
    match = _HTTPX_LINE.search(text)
    if match is None and (timed_out := _CONNECT_TIMEOUT.search(text)) is not None:
        return timed_out.group(1)
    url = match.group(2) if match else (m.group(1).rstrip(":,.;)'\"") if (m := _URL.search(text)) else None)
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def data_file_name(text: str) -> str | None:
    """The file name curl was given as its body without `@` (`--data t1.json`): it sent the name, not the file."""
    match = _CURL_DATA_NAME.search(text)
    return match.group(1) if match else None


def split_command(text: str) -> bool:
    """Whether curl's own errors show a command line the shell split (see `_CURL_HOST`): a host that is no host name,
    or a URL globbing error."""
    return bool(_CURL_SPLIT.search(text)) or any(not _HOST_NAME.match(m.group(1).split(":")[0])
                                                  for m in _CURL_HOST.finditer(text))


def _client_error(text: str) -> str:
    """The kind of failure, in `mldoctor probe`'s words: timeout, empty_reply, reset or refused."""
    lowered = text.lower()
    if "timeout" in lowered or "timed out" in lowered:
        return "timeout"
    if "refused" in lowered:
        return "refused"
    if "remotedisconnected" in lowered or "without response" in lowered:
        return "empty_reply"
    return "reset"


def _header(answer: Answer, name: str, value: str) -> None:
    if name == "location":  # where a redirect sends the call: its path only (a sign-in page's query holds a state token)
        value = urlsplit(value).path
    if name in KEPT_HEADERS and answer.headers is not None:
        answer.headers[name] = value
    if name == "date":
        try:
            answer.when = parse_http_date(value)
        except (TypeError, ValueError, IndexError):
            pass


def _path_of(text: str) -> str:
    """The scoring path of the URL the output names (`/score` when none)."""
    match = _URL.search(text)
    return (urlsplit(match.group(1).rstrip(":,.;)'\"")).path or "/score") if match else "/score"


# The Azure ML CLI's error for a scoring call it made (`az ml online-endpoint invoke`): no HTTP status is printed, only
# the platform's error code and message.
_CLI_ERROR = re.compile(r"^ERROR: \((\w{2,80})\) ([^\n]{1,2000})$", re.MULTILINE)
_CLI_INVOKE = re.compile(r"\baz ml (?:online-endpoint|batch-endpoint|endpoint) invoke\b|\binvoke --name\b")


def read_client_output(text: str, label: str, pasted: bool = False) -> tuple[list[ConfigFact], list[LogSource]]:
    """A `client-output` fact and an access log of the answers; without an HTTP answer, a `client-error` fact for
    the Azure ML CLI's error of an invoke, or for a client library's exception; nothing when the text holds neither.
    `pasted`: the text may be anyone's (`pasted/`), so an exception in a server's own log is not taken as a client's."""
    split = split_command(text)
    found = answers(text, split)
    if not found and (not pasted or (_OPENAI_RETRY.search(text) or _OPENAI_ERROR.search(text))
                      and not _SERVER_LOG.search(text)):  # (a server's log may hold its own outgoing calls)
        found = httpx_answers(text)
    openai = _OPENAI_ERROR.search(text) if not found else None
    if openai is not None:
        found = [Answer(int(openai.group(1)), "", _path_of(text))]
    bare = _BARE_STATUS.search(text) if not found and not pasted else None
    if bare is not None:
        found = [Answer(int(bare.group(1)), "", _path_of(text))]
    if not found:
        error = _CLI_ERROR.search(text)
        if error is not None and _CLI_INVOKE.search(text):
            values = {"code": error.group(1), "message": error.group(2).strip(), "command": "invoke",
                      "context": context_limit(text)}
            return [ConfigFact(label, "client-error", values)], []
        met = _AZ_MET_ERROR.search(text)
        if met is not None:  # the az CLI's own words for the exception its command raised
            values = {"code": met.group(1), "message": met.group(2).strip(), "command": "az",
                      "context": context_limit(text)}
            return [ConfigFact(label, "client-error", values)], []
        raised = _CLIENT_EXCEPTION.search(text)  # a client library's exception: the call failed, no answer shown
        if raised is None or raised.group(1).endswith("Warning") or (pasted and _SERVER_LOG.search(text)) or \
                (pasted and raised.group(1) in _PYTHON_BUILTIN_ERRORS):  # a pasted `ValueError: …`: any program's
            return [], []
        values = {"code": raised.group(1), "message": raised.group(2).strip(), "command": "exception",
                  "context": context_limit(text)}
        return [ConfigFact(label, "client-error", values)], []
    data = ("\n".join(a.access_line() for a in found) + "\n").encode()
    headers = [a.headers or {} for a in found]
    # the body is looked for in the command that got the first answer: in a terminal transcript, what a later command
    # printed (`cat t1.json`, the request file) is not the answer's body
    scope = next((part for part in commands if answers(part, split)), text) if len(commands := _commands(text)) > 1 else text
    body = (client_body.body_of(scope) or (bare.group(2).strip() if bare is not None else None)
            or next((m.group(1) for m in _JSON_ERROR.finditer(scope)), None)
            or next((m.group(1) for m in _JSON_ERROR_LINES.finditer(scope)), None)
            or next((m.group(1) for m in _ERROR_CODE_BODY.finditer(scope)), None)
            or next((m.group(1) for m in _OLLAMA_ERROR.finditer(scope)), None)
            or next((m.group(0) for m in _GPUSTACK_503.finditer(scope)), None)
            or next((m.group(2).strip() for m in _STATUS_BODY.finditer(scope)), None)
            or next((m.group(0) for m in _MLFLOW_CONTENT_TYPE.finditer(scope)), None)
            or next((m.group(0) for m in _RUN_FAILED.finditer(scope)), None))
    message = _error_message(body) if body and _ERROR_CODE_BODY.match(body) else client_body.message_of(body)
    said = _REPR_MESSAGE.search(openai.group(2)) if openai is not None and openai.group(2) else None
    if said is not None:  # the repr's own quoting undone: `\'` and `\\`
        body, message = openai.group(2), re.sub(r"\\(.)", r"\1", said.group(2))
    sent_name = data_file_name(scope)
    if sent_name and all(400 <= a.status < 500 for a in found):
        # the server's words refuse a body the caller never meant to send (the file's name): the caller's mistake, not
        # a reason of the service's (as curl's own errors of a split command line are no answer: `split_command`)
        message = None
    values = {"statuses": [a.status for a in found], "status": found[-1].status, "reason": found[-1].reason,
              "answers": [{"status": a.status, "reason": a.reason, "path": a.path, "headers": h}
                          for a, h in zip(found, headers)],
              "model_error_statuscode": _last(headers, "azureml-model-error-statuscode", "ms-azureml-model-error-statuscode"),
              "model_error_reason": _last(headers, "azureml-model-error-reason", "ms-azureml-model-error-reason"),
              "request_id": _last(headers, "x-ms-request-id", "x-request-id"),
              # Envoy's `x-envoy-upstream-service-time` of the last answer that has it: how long the upstream took (ms)
              "upstream_ms": int(ms) if (ms := _last(headers, "x-envoy-upstream-service-time") or "").isdigit() else None,
              "split_command": split, "server": server_signature(text), "grpc": grpc_call(text),
              "data_file_name": sent_name,  # `curl --data t1.json`: the name sent as the body (`-d @t1.json` reads the file)
              "host": (host := host_of(text)), "loopback": bool(host and _LOOPBACK.match(host)),
              "body": body, "answer_message": message, "answer_message_generic": client_body.is_generic(message),
              "context": context_limit(text)}
    return [ConfigFact(label, "client-output", values)], [LogSource.from_bytes(label, "client", data, kind="access")]


def _last(headers: list[dict[str, str]], *names: str) -> str | None:
    for entry in reversed(headers):
        for name in names:
            if entry.get(name):
                return entry[name]
    return None
