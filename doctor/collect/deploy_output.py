"""The output of a deploy command recognised by content: Azure ML v1 (`az ml model deploy`,
`wait_for_deployment(show_output=True)`, WebserviceException with its JSON error) and v2 (`az ml online-deployment
create`, `ml_client.online_deployments.begin_create_or_update(...)` HttpResponseError) with their error codes.

It becomes a `deploy-output` ConfigFact (`text`, `error_codes`, `state`, `message`) and may also be scanned as a log,
so the log rules see the container errors the platform quotes (`Liveness probe failed`, `CrashLoopBackOff`, a
traceback). All patterns are linear (no nested quantifiers).
"""

from __future__ import annotations

import re
from typing import Any

from doctor.evidence import ConfigFact, LogSource

MAX_TEXT = 20000  # the tail kept in the fact (the error is at the end)

# Deployment-operation error codes (azureml-facts §1.2.1, v1 troubleshooting): a bare mention counts only near "error".
KNOWN_CODES = ("ResourceNotReady", "OutOfQuota", "OutOfCapacity", "ImageBuildFailure", "BadArgument", "ResourceNotFound",
               "DeploymentFailed", "OperationCanceled", "DeploymentTimedOut", "AciDeploymentFailed", "CrashLoopBackOff",
               "WorkspaceManagedNetworkNotReady", "SecretsInjectionError", "InternalServerError", "ACRSecretError",
               "TokenRefreshFailed", "GetAADTokenFailed", "RequestTimeout", "ServiceError", "UserError",
               "InferencingClientCallFailed", "DeploymentCanceled", "EndpointNotFound", "UserContainerCrashed",
               "Unschedulable", "KubernetesError", "InferencingClientCreateDeploymentFailed", "MissingDriverProgram")
# Messages that name their code only in words (azureml-facts §1.2.1).
_MESSAGE_CODES = (("Not enough quota available", "OutOfQuota"), ("container registry authorization failure", "ImageBuildFailure"),
                  ("failed to communicate with the workspace's container registry", "ImageBuildFailure"))
# v1 output: one of these (they name the deployment operation itself) makes the text a deploy output.
_V1_MARKERS = ("Service deployment polling", "WebserviceException", "wait_for_deployment", "Operation ID:",
               "Deployment failed", "creation operation finished", "az ml model deploy", "az ml service",
               "Azure-cli-ml Version", "MlCliError(")
_V2_MARKERS = ("Error from server (", "HttpResponseError", "online-deployment", "online_deployments", "OnlineDeployment", "begin_create_or_update",
               "provisioning_state", "ProvisioningState", "az ml ", "azure.core.exceptions", "DeploymentException",
               "Exception Details:", "Additional Information:")
_JSON_CODE = re.compile(r'"code":\s*"(\w{3,80})"')
_PAREN_CODE = re.compile(r"(?:ERROR|Error|HttpResponseError|Exception|Details):?\s+\((\w{3,80})\)|^\(([A-Z]\w{2,80})\) ",
                         re.MULTILINE)
_NONE_CODE = re.compile(r"\(None\) ([A-Z]\w{2,80}):")
# kubectl's (and oc's) refusal of a create/apply: `Error from server (InternalError): error when creating "x.json": …`
_SERVER_ERROR = re.compile(r"\bError from server \(([A-Z]\w{2,80})\): ?(.{1,2000})$", re.MULTILINE)
_CODE_LINE = re.compile(r"(?<!Exit )(?<!Status )(?:\b|(?<=Error))Code: ?([A-Z]\w{2,80})")
_ERROR_CLASS = re.compile(r"^(\w{0,60}Deployment\w{0,60}Error): |\bReason:([A-Z]\w{2,80})", re.MULTILINE)
_BARE = re.compile(r"\b(" + "|".join(KNOWN_CODES) + r")\b")
_STATE = re.compile(r"current service state: (\w+)|[\"']?provisioning_?[sS]tate[\"']?:\s*[\"']?(\w+)")
_MESSAGE = re.compile(r'"message":\s*"((?:[^"\\\n]|\\.){1,2000})"|^\s*Message:\s*(.{1,2000})$|\bErrorMessage: (.{1,2000})$|'
                      r"(?:ERROR|HttpResponseError): \(\w+\) (.{1,2000})$", re.MULTILINE)


# The az CLI refusing before anything reaches Azure: a command (group) it does not know (`'online-endpoint' is
# misspelled or not recognized by the system.`), and the ml extension's check of a YAML file against its schema
# (`Validation for ManagedOnlineEndpointSchema failed:` then `"field": ["Unknown field."]` per field).
_CLI_UNKNOWN = re.compile(r"^(?:ERROR: )?'([\w-]{1,80})' is misspelled or not recognized by the system\.", re.MULTILINE)
_SCHEMA_FAILED = re.compile(r"\bValidation for (\w{1,120}Schema) failed:")
# an az extension's own validation asking for a setting it needs (`az k8s-extension create` for Azure ML: `To use
# inference, please specify inferenceRouterServiceType=ClusterIP or inferenceRouterServiceType=NodePort or … in
# --configuration-settings …`)
_CLI_SPECIFY = re.compile(r"^(?:ERROR: )?(?:[^\n]{0,120}?,? )?[Pp]lease specify ([\w.]{1,80})=([^\n]{0,1000})$", re.MULTILINE)
_FIELD_ERROR = re.compile(r'"(\w{1,80})":\s*\[\s*"([^"\n]{1,300})"')


# kubectl (or helm, oc) refused by the cluster: the API server's validation (`The Deployment "x" is invalid: FIELD: Invalid
# value: "1Gi": must be …`), an admission webhook (`admission webhook "W" denied the request: …`, maybe inside `Error from
# server (<the webhook's message>): error when creating "f.yaml": …`), or a kind no CRD defines (`no matches for kind "K"
# in version "G/V"` … `ensure CRDs are installed first`).
_INVALID = re.compile(r'\b(?:The )?([A-Z]\w{1,60}(?:\.[a-z][\w.]{0,60})?) "([^"\n]{1,253})" is invalid: \[?([^\n]{1,2000})$',
                      re.MULTILINE)
_INVALID_FIELD = re.compile(r"^([\w.\[\]-]{1,300}): (?:Invalid value: (\"[^\"\n]{0,300}\"|[^:\n]{0,300}): )?([^,\]\n]{1,500})")
_FIELD_NAMED = re.compile(r"(?:^|, )((?:spec|metadata)[\w.\[\]-]{0,300}): ")
_DENIED = re.compile(r'\badmission webhook "([^"\n]{1,253})" denied the request: ([^\n]{1,2000})$', re.MULTILINE)
_NO_KIND = re.compile(r'\bno matches for kind "(\w{1,100})" in version "([^"\n]{1,200})"')
_SERVER_SAID = re.compile(r"\bError from server(?: \([^)\n]{1,600}\))?: ?(.{1,2000})$", re.MULTILINE)


def kube_refusal(text: str) -> tuple[dict[str, Any], str | None]:
    """What the cluster refused: {invalid: {kind, name, field, value, why} of the API server's validation, webhook:
    {name, message} of an admission webhook that denied the request, missing_kind: {kind, version} no CRD defines},
    each None when the text has no such refusal; and the words to quote (a webhook's message first), or None."""
    invalid = _INVALID.search(text)
    detail = _INVALID_FIELD.match(invalid.group(3)) if invalid else None
    denied = _DENIED.search(text)
    no_kind = _NO_KIND.search(text)
    message = invalid.group(3).rstrip("]") if invalid else ""
    said = (denied.group(2).strip() if denied else
            f'The {invalid.group(1)} "{invalid.group(2)}" is invalid: {message}' if invalid else
            no_kind.group(0) if no_kind else None)
    return {
        "invalid": {"kind": invalid.group(1), "name": invalid.group(2), "message": message,
                    "field": detail.group(1) if detail else None,
                    "value": detail.group(2).strip('"') if detail and detail.group(2) else None,
                    "why": detail.group(3).strip() if detail else None,
                    # every field the API server names (`[spec…livenessProbe: Required value: …, spec…readinessProbe: …]`)
                    "fields": list(dict.fromkeys(_FIELD_NAMED.findall(message)))} if invalid else None,
        "webhook_denied": {"name": denied.group(1), "message": denied.group(2).strip()} if denied else None,
        "missing_kind": {"kind": no_kind.group(1), "version": no_kind.group(2)} if no_kind else None,
    }, said


def cli_refusal(text: str) -> tuple[dict[str, Any], str | None]:
    """What the az CLI refused locally: {cli_unknown: the command it does not know, schema: the schema a YAML failed,
    field_errors: {field: first error}, cli_missing: {setting, choices} an extension asks to be given}, each None (or
    empty) when the text has no such refusal; and the line to quote, or None."""
    unknown = _CLI_UNKNOWN.search(text)
    schema = _SCHEMA_FAILED.search(text)
    fields = {f: why for f, why in _FIELD_ERROR.findall(text[schema.end():schema.end() + 20000])} if schema else {}
    specify = _CLI_SPECIFY.search(text)
    missing = None
    if specify is not None:
        name = specify.group(1)
        choices = re.findall(rf"\b{re.escape(name)}=(\w+)", specify.group(0))
        missing = {"setting": name, "choices": list(dict.fromkeys(choices))}
    said = (unknown.group(0).removeprefix("ERROR: ") if unknown else schema.group(0) if schema else
            specify.group(0).removeprefix("ERROR: ").strip() if specify else None)
    return {"cli_unknown": unknown.group(1) if unknown else None, "schema": schema.group(1) if schema else None,
            "field_errors": fields, "cli_missing": missing}, said


# The Docker (or Podman) client refused by its engine before the container ran: `docker: Error response from daemon:
# could not select device driver "" with capabilities: [[gpu]].`, Compose's `Error response from daemon: driver failed
# programming external connectivity on endpoint …: … bind: address already in use`, an image that cannot be unpacked
# (`docker: failed to register layer: … no space left on device.` then `See 'docker run --help'.`).
_DAEMON = re.compile(r"^(?:(?:docker|podman): )?Error response from daemon: ?(.{1,2000})$", re.MULTILINE)
_DOCKER_SAID = re.compile(r"^(?:docker|podman): (.{1,2000})$(?=\n?See '(?:docker|podman) [\w-]+ --help'\.)", re.MULTILINE)
_PODMAN_ERROR = re.compile(r"^Error: (\S.{0,1999})$", re.MULTILINE)  # in `deploy/` only: any tool's


def docker_refusal(text: str, placed: bool = False) -> tuple[dict[str, Any], str | None]:
    """What the Docker (Podman) engine or client refused: {engine_refused: its message}, None when the text has no such
    refusal; and the message to quote, or None. `placed`: the text is in `deploy/`, where Podman's bare `Error: …`
    counts too."""
    found = _DAEMON.search(text) or _DOCKER_SAID.search(text) or (_PODMAN_ERROR.search(text) if placed else None)
    said = found.group(1).strip() if found else None
    return {"engine_refused": said}, said


# Ray Serve's `serve status` (YAML): the application's status (`app_status:` up to Ray 2.4, `applications: NAME:` after)
# and each deployment's, each with a `message:` (a block scalar when it holds a traceback), and the HTTP proxies'
# (`proxies: NODE_ID: HEALTHY`). An application is NOT_STARTED, DEPLOYING, DEPLOY_FAILED, RUNNING, UNHEALTHY or
# DELETING; a deployment UPDATING, HEALTHY or UNHEALTHY (later releases add DEPLOY_FAILED, UPSCALING, DOWNSCALING).
_SERVE_STATUS = re.compile(r"^( *)status: ['\"]?(NOT_STARTED|DEPLOYING|DEPLOY_FAILED|RUNNING|UNHEALTHY|DELETING|UPDATING|"
                           r"HEALTHY|UPSCALING|DOWNSCALING)['\"]?[ \t]*$", re.MULTILINE)
_SERVE_PROXY = re.compile(r"^ +[0-9a-f]{16,64}: (HEALTHY|UNHEALTHY|STARTING|DRAINING|DRAINED)[ \t]*$", re.MULTILINE)
# what makes such `status:` lines Ray Serve's (a bare `status: RUNNING` could be anything's)
_SERVE_CONTEXT = ("app_status:", "deployment_statuses:", "applications:", "DEPLOY_FAILED", "replica_states:", "ray::",
                  "ray.exceptions.", "/ray/serve/", "proxies:")
_SERVE_FAILED = ("DEPLOY_FAILED", "UNHEALTHY")
_MESSAGE_KEY = re.compile(r"^( *)message: ?(.*)$")
# an exception's line, with Ray's wrapper of the cause (`ray.exceptions.RayTaskError(SyntaxError): <no detail available>`)
_EXCEPTION_LINE = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)))(?:\((\w{1,80})\))?:"
                             r"(?: (.*))?$")
_TRACE_FRAME = re.compile(r'^\s*File "([^"\n]{1,1000})", line (\d+), in (\S+)')
# a frame of a library or of Python's own, not the application's: an installed package, Ray's source checkout, the
# standard library, `<frozen importlib._bootstrap>` (not `/home/ray/…`: KubeRay's images run as the user `ray`)
_LIBRARY_FRAME = re.compile(r"[/\\](?:site|dist)-packages[/\\]|[/\\]python[/\\]ray[/\\]|[/\\]lib[/\\]python\d(?:\.\d+)?[/\\]|^<")
_AT_IMPORT = ("SyntaxError", "IndentationError", "TabError")


def _serve_messages(lines: list[str]) -> list[tuple[int, str]]:
    """Each `message:` of a `serve status` text: (its line index, its text: a block scalar's lines dedented, a plain or
    quoted scalar unquoted)."""
    found: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        key = _MESSAGE_KEY.match(line)
        if not key:
            continue
        indent, rest = len(key.group(1)), key.group(2).strip()
        if rest[:1] in ("|", ">"):
            body: list[str] = []
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip(" ")) <= indent:
                    break
                body.append(nxt)
            margin = min((len(b) - len(b.lstrip(" ")) for b in body if b.strip()), default=0)
            said = "\n".join(b[margin:] for b in body).strip()
        else:
            said = rest[1:-1] if len(rest) > 1 and rest[0] == rest[-1] and rest[0] in "'\"" else rest
        if said:
            found.append((i, said))
    return found


def serve_status(text: str) -> dict[str, Any] | None:
    """Ray Serve's `serve status`: {status: the application's (the first, least indented), statuses: every status
    named, failed: any DEPLOY_FAILED or UNHEALTHY, message: the failed status's message (the one with an exception
    first), error: its last exception line, exception: the exception's class (the cause Ray wraps, `SyntaxError` of
    `RayTaskError(SyntaxError)`), wrapper: Ray's wrapping class or None, detail: what follows the class, app_frame:
    {file, line, func} of the deepest frame of the application's code or None, at_import: the exception is raised
    while the application's module is imported (a SyntaxError, or a frame of its code is `<module>`), in_app: it is
    raised by the application's code}; None when the text is no `serve status`."""
    found = list(_SERVE_STATUS.finditer(text))
    proxies = _SERVE_PROXY.findall(text)
    if not found or not any(m in text for m in _SERVE_CONTEXT):
        return None
    lines = text.splitlines()
    starts = [text.count("\n", 0, m.span()[0]) for m in found]
    statuses = [m.group(2) for m in found] + proxies
    app = min(found, key=lambda m: len(m.group(1))).group(2)
    messages = _serve_messages(lines)
    # the message of a failed status: the first `message:` after it at the same indent
    failed_messages = []
    for m, start in zip(found, starts):
        if m.group(2) in _SERVE_FAILED:
            said = next((t for i, t in messages if i > start and len(lines[i]) - len(lines[i].lstrip(" ")) == len(m.group(1))),
                        None)
            if said:
                failed_messages.append(said)
    with_exception = [t for t in failed_messages if any(_EXCEPTION_LINE.match(line) for line in t.splitlines())]
    message = (with_exception or failed_messages or [None])[0]
    error = exception = wrapper = detail = None
    app_frame = None
    own: list[tuple[str, ...]] = []  # the message's frames of the application's code (no library's)
    if message:
        exc_lines = [line.strip() for line in message.splitlines() if _EXCEPTION_LINE.match(line)]
        if exc_lines:
            error = exc_lines[-1]
            parts = _EXCEPTION_LINE.match(error)
            exception, wrapper = (parts.group(3), parts.group(2)) if parts.group(3) else (parts.group(2), None)
            detail = (parts.group(4) or "").strip() or None
        frames = [f.groups() for f in map(_TRACE_FRAME.match, message.splitlines()) if f]
        own = [f for f in frames if not _LIBRARY_FRAME.search(f[0])]
        if own:
            app_frame = {"file": own[-1][0], "line": int(own[-1][1]), "func": own[-1][2]}
    at_import = exception in _AT_IMPORT or any(func == "<module>" for _, _, func in own)
    return {"status": app, "statuses": statuses, "failed": any(s in _SERVE_FAILED for s in statuses),
            "message": message, "error": error, "exception": exception, "wrapper": wrapper, "detail": detail,
            "app_frame": app_frame, "at_import": at_import, "in_app": bool(exception) and (at_import or app_frame is not None)}


def _explicit_codes(text: str) -> set[str]:
    """Codes written as codes: `"code": "X"`, `ERROR: (X)`, `Code: X`, `(None) X:`."""
    codes = set(_JSON_CODE.findall(text)) | set(_NONE_CODE.findall(text)) | set(_CODE_LINE.findall(text))
    codes |= {code for code, _ in _SERVER_ERROR.findall(text)}
    codes |= {a or b for a, b in _PAREN_CODE.findall(text)} | {a or b for a, b in _ERROR_CLASS.findall(text)}
    codes |= {code for words, code in _MESSAGE_CODES if words in text}
    return codes - {"None", ""}


def error_codes(text: str) -> list[str]:
    """The error codes the output names: written as codes, or a known code mentioned in the text."""
    return sorted(_explicit_codes(text) | set(_BARE.findall(text)))


def looks_like_deploy_output(text: str) -> bool:
    """True when the text is a deploy command's output: a v1 marker, Ray Serve's `serve status`, or an error code
    written as one next to a v2 marker or a known code (a pod table saying `CrashLoopBackOff` is not a deploy output)."""
    if any(m in text for m in _V1_MARKERS) or serve_status(text) is not None:
        return True
    codes = _explicit_codes(text)
    return bool(codes) and (any(m in text for m in _V2_MARKERS) or bool(codes & set(KNOWN_CODES))
                            or "Message:" in text or bool(_ERROR_CLASS.search(text)))


# A platform message that reports a failure in words and no code (ACI's `Message: Resource requested: … exceeded
# resource limitation on container`): counted only in a file the user put in `deploy/`, which holds a deploy
# command's output by the bundle's layout.
_FAILURE_WORDS = re.compile(r"(?i)\b(?:exceed(?:s|ed)?|denied|forbidden|invalid|cannot|can't|could not|couldn't|unable to|"
                            r"not found|does not exist|refused|rejected|unauthori[sz]ed|failures?|fail(?:s|ed)?|errors?|"
                            r"exceptions?|timed out|timeout|not enough|insufficient|not allowed|not supported|unavailable|"
                            r"not authori[sz]ed|explicit deny)\b")
# A line of a deploy tool that reports a failure on its own, in `deploy/`: a cloud SDK's exception with its HTTP status
# (Google's `FailedPrecondition: 400 Model directory … is expected to contain …`, `google.api_core.exceptions.NotFound:
# 404 …`), AWS's refusal of a call (`User: arn:… is not authorized to perform: sagemaker:CreateEndpointConfig on
# resource: … with an explicit deny in a service control policy`), or a line that starts by saying it failed.
_FAILURE_LINE = re.compile(r"^(?:[\w.]{0,200}\.)?[A-Z][A-Za-z]{2,80}: [45]\d\d \S[^\n]{0,2000}$|"
                           r"^[^\n]{0,300}\bis not authori[sz]ed to perform: [^\n]{1,2000}$|"
                           r"^(?:ERROR:? |Error:? )?(?:Failed|Unable|Could not|Cannot) [^\n]{1,2000}$", re.MULTILINE)


# In `deploy/`, a line that says in words that something failed, when nothing else did (`Helm Upgrade Failed : : …`, the
# az CLI's `ERROR: cli.azure.cli.core.azclierror: Local deployment (e / d) is in failed state.`, a message the user quoted):
# not a logger's DEBUG/INFO/WARNING line, nor a traceback's frame; quoted without the CLI logger's name and quotes.
# Only in a short text (a command's error, not a container log that `get-logs` saved there: its `worker timeout is set
# to 300` is no failure), with a word that says it failed.
_SHORT_TEXT_LINES = 20
_FAILED_WORDS = re.compile(r"(?i)\b(?:fail(?:s|ed|ure)?|errors?|exception|denied|forbidden|not supported|not allowed|"
                           r"not authori[sz]ed|unauthori[sz]ed|cannot|can't|unable to|could not|couldn't|refused|rejected)\b")
_QUIET_LINE = re.compile(r"\b(?:DEBUG|INFO|WARNING|WARN)\b|^\s*File \"|^\s*\d+ (?:errors?|failures?|failed)\b")
_CLI_LOGGER = re.compile(r"^(?:ERROR:? )?(?:(?:cli\.)?azure\.cli\.core\.azclierror|az_command_data_logger): ")


# a container's own output relayed by the tool (`docker compose up`'s `service-1  | …`): the log rules read those lines
_RELAYED = re.compile(r"^[\w.-]{1,120} +\| ", re.MULTILINE)


def _failure_word_lines(text: str) -> list[str]:
    lines = [line.strip().strip('"').strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > _SHORT_TEXT_LINES or _RELAYED.search(text):
        return []
    return [_CLI_LOGGER.sub("", line)[:2000] for line in lines
            if not _QUIET_LINE.search(line) and _FAILED_WORDS.search(line)]


_PLACED_MESSAGE = re.compile(r"\bMessage:\s*(.{1,2000})$", re.MULTILINE)


def read_deploy_output(text: str, label: str, placed: bool = False) -> list[ConfigFact]:
    """A `deploy-output` fact for the text, or nothing when it is not a deploy command's output. `placed`: the file
    is in the bundle's `deploy/`, so a message that reports a failure in words is enough."""
    tail = text[-MAX_TEXT:]
    messages = [next(g for g in found.groups() if g) for found in _MESSAGE.finditer(tail)]
    messages += [message.strip() for _, message in _SERVER_ERROR.findall(tail)]
    messages += [m.strip() for m in _SERVER_SAID.findall(tail) if m.strip() not in messages]
    if placed:  # a `Message:` anywhere on a line (`error in notebook Message: "errors": …`)
        messages += [m.strip() for m in _PLACED_MESSAGE.findall(tail) if m.strip() not in messages]
    worded = [m for m in messages if _FAILURE_WORDS.search(m)] if placed else []
    if placed and not worded:  # no message said it: the lines that report a failure, the last (most inner) first
        lines = [m.group(0).strip() for m in _FAILURE_LINE.finditer(tail)][::-1] or _failure_word_lines(tail)[:1]
        messages += lines
        worded += lines
    cli, cli_said = cli_refusal(tail)
    kube, kube_said = kube_refusal(tail)
    engine, engine_said = docker_refusal(tail, placed)
    # the CLI's own refusal first: nothing reached the cluster then
    refused, said = cli | kube | engine, cli_said or kube_said or engine_said
    if said:  # the refusal is the message to quote, and a failure in words wherever the text was placed
        messages.insert(0, said)
        worded.append(said)
    serve = serve_status(tail)  # (found in the tail, it is in the text: `looks_like_deploy_output` would say so again)
    if serve is None and not looks_like_deploy_output(text) and not worded:
        return []
    state = _STATE.search(text)
    if serve and serve["failed"]:  # Ray Serve's own word: its exception line, or the failed status's message
        said = serve["error"] or ((serve["message"] or "").splitlines() or [None])[0]
        if said:
            messages.insert(0, said)
    values = {"error_codes": error_codes(text), "text": tail,
              "state": next((g for g in state.groups() if g), None) if state else serve["status"] if serve else None,
              "message": _specific(messages),
              "failed": _failed(text) or bool(worded) or bool(serve and serve["failed"]), **refused}
    if serve:
        values["serve"] = serve
    return [ConfigFact(label, "deploy-output", values)]


# What an outer error says when the inner one (`Exception Details:`, a JSON `details` item) has the reason.
_GENERIC_MESSAGES = ("The request is invalid.", "Deployment failed.", "An error occurred.", "Internal server error.")


def _specific(messages: list[str]) -> str | None:
    """The message to quote: the first, unless it is a generic outer one and a later (inner) one says more."""
    if not messages:
        return None
    first = messages[0].strip()
    if first in _GENERIC_MESSAGES or first.rstrip(".") + "." in _GENERIC_MESSAGES:
        inner = [m for m in messages[1:] if m.strip() and m.strip() not in _GENERIC_MESSAGES]
        if inner:
            return inner[0]
    return messages[0]


# A status or a message that names a failure, in any case and joined by `_` (Ray Serve's `DEPLOY_FAILED`, `UNHEALTHY`;
# `Deployment failed:`; `state: failed`), or an exception line, with its cause in parentheses too
# (`ray.exceptions.RayTaskError(SyntaxError): …`): such an output never says that the deployment succeeded.
# (joined by `_` on its left only: `DEPLOY_FAILED` is a status, `failure_threshold` a setting's name)
_FAILED_WORD = re.compile(r"(?i)(?<![a-z])(?:failed|failure|unhealthy|timed ?out)(?![a-z_])")
_FAILED_MARK = re.compile(r"\w(?:Error|Exception)(?:\(\w{1,80}\))?:|Error:|ERROR")


def _failed(text: str) -> bool:
    """Whether the output reports a failure (an error code, a failed state in any case, an exception)."""
    return bool(error_codes(text)) or bool(_FAILED_WORD.search(text) or _FAILED_MARK.search(text))


def as_log(fact: ConfigFact) -> LogSource:
    """The deploy output as a log source, so log rules match the container errors it quotes."""
    data = str(fact.values.get("text", "")).encode("utf-8", "replace")
    return LogSource.from_bytes(fact.source, "deploy", data)
