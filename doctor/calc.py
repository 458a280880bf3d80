"""The arithmetic behind fixes: replicas from the autoscaling formula, memory to set, probe budgets.

Each calculator returns its result with the inputs and the formula written out, so a fix can show
`replicas = ceil(20 × 10 / 0.7 / 1) = 286` instead of a bare number.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

GIB = 1024**3


def utilization_fraction(value: float | None, default: float = 0.7) -> float:
    """A target utilization as a fraction: Azure ML v1 writes 70 (percent), v2 writes 70 too, the SDK 0.7."""
    if value is None:
        return default
    value = float(value)
    return value / 100 if value > 1 else value


def replicas(rps: float, seconds: float, utilization: float | None = 0.7, max_concurrent: float | None = 1) -> dict[str, Any]:
    """The guide's formula: replicas = ceil(target_rps × request_seconds / target_utilization / max_concurrent)."""
    util = utilization_fraction(utilization)
    conc = float(max_concurrent or 1)
    if rps <= 0 or seconds <= 0 or util <= 0 or conc <= 0:
        raise ValueError("rps, request seconds, utilization and max concurrent must all be positive")
    concurrent = rps * seconds / util
    count = math.ceil(round(concurrent / conc, 9))
    text = f"replicas = ceil({_n(rps)} × {_n(seconds)} / {_n(util)} / {_n(conc)}) = {count}"
    return {"replicas": count, "formula": text, "rps": rps, "request_seconds": seconds,
            "target_utilization": util, "max_concurrent": conc, "concurrent_requests": concurrent}


def spike_headroom(utilization: float | None) -> float:
    """How large an RPS spike (fraction above the current load) the target utilization absorbs: 70 % → 30 %."""
    return round(1 - utilization_fraction(utilization), 4)


def suggest_memory_gb(limit_bytes: float | None, observed_bytes: float | None = None) -> float | None:
    """Memory to set: 1.5 × what was observed (or twice the current limit), rounded up to 0.5 GB, at least +0.5 GB."""
    if not limit_bytes and not observed_bytes:
        return None
    base = float(observed_bytes) * 1.5 if observed_bytes else float(limit_bytes or 0) * 2
    suggested = math.ceil(base / GIB * 2) / 2
    if limit_bytes:
        suggested = max(suggested, math.ceil((float(limit_bytes) / GIB + 0.5) * 2) / 2)
    return suggested


def probe_budget(initial_delay: float, failure_threshold: float, period: float) -> dict[str, Any]:
    """Seconds a start-up may take before the probe gives up: initial_delay + failure_threshold × period."""
    budget = float(initial_delay) + float(failure_threshold) * float(period)
    return {"seconds": budget,
            "formula": f"{_n(initial_delay)} + {_n(failure_threshold)} × {_n(period)} = {_n(budget)} s"}


def gb(value: Any, digits: int = 2) -> str:
    """Bytes shown in GB (GiB, as Azure ML's memory_gb means), e.g. `0.5 GB`."""
    if value is None or value == "":
        return "unknown"
    return f"{_n(round(float(value) / GIB, digits))} GB"


def mib(value: Any) -> str:
    """Bytes shown in MiB."""
    if value is None or value == "":
        return "unknown"
    return f"{_n(round(float(value) / 2**20, 1))} MiB"


def _n(value: float) -> str:
    """A number without a needless `.0`."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


_SETTING_FALLBACK = {
    "memory_gb": {"docker": "the container memory limit (`docker run --memory`; `memory_gb=` in deploy_configuration for a LocalWebservice)",
                  "k8s": "resources.limits.memory", "": "the memory limit (`memory_gb=` in deploy_configuration)"},
}


def setting(config: dict[str, Any] | None, key: str, target_kind: str = "") -> str:
    """The name of a setting in the dialect the user deployed with (from the config), else a sensible default."""
    names = (config or {}).get("settings") or {}
    if names.get(key):
        return str(names[key])
    fallback = _SETTING_FALLBACK.get(key, {})
    return fallback.get(target_kind) or fallback.get("") or key


def current_memory_limit(states: list[dict[str, Any]] | None, config: dict[str, Any] | None) -> int | None:
    """The memory limit in force: the container's own limit first, else the deployment config's."""
    for state in states or []:
        if state.get("memory_limit_bytes"):
            return int(state["memory_limit_bytes"])
    value = (config or {}).get("memory_limit_bytes")
    return int(value) if value else None


_INSUFFICIENT = re.compile(r"(\d+) Insufficient ([\w./-]+)")
_OTHER_REASONS = (("untolerated taint", "untolerated taints"), ("didn't match Pod's node affinity", "node affinity/selector"),
                  ("Too many pods", "pods per node"), ("didn't match node selector", "node affinity/selector"))


def scarce_resources(message: str | None) -> list[str]:
    """What a FailedScheduling message says is missing: `0/3 nodes are available: 3 Insufficient nvidia.com/gpu` → [nvidia.com/gpu]."""
    text = message or ""
    found = [name.rstrip(".,") for _, name in _INSUFFICIENT.findall(text)]
    found += [label for needle, label in _OTHER_REASONS if needle in text]
    return list(dict.fromkeys(found))


def largest_free(nodes: list[dict[str, Any]] | None, resource: str) -> float:
    """The most of `resource` any one schedulable node has free (allocatable minus requests)."""
    return max((float(n.get("free", {}).get(resource, n.get("allocatable", {}).get(resource, 0.0)))
                for n in nodes or [] if not n.get("unschedulable")), default=0.0)


TEMPLATE_FUNCTIONS: dict[str, Any] = {
    "scarce_resources": scarce_resources,
    "largest_free": largest_free,
    "setting": setting,
    "current_memory_limit": current_memory_limit,
    "replicas": replicas,
    "suggest_memory_gb": suggest_memory_gb,
    "probe_budget": probe_budget,
    "spike_headroom": spike_headroom,
    "utilization_fraction": utilization_fraction,
    "ceil": math.ceil,
    "max": max,
    "min": min,
}
TEMPLATE_FILTERS: dict[str, Any] = {"gb": gb, "mib": mib, "num": _n}


# --- rule pack helpers (issue 3) ----------------------------------------------------------------

_MODEL_PATH = re.compile(r"azureml-models/(?P<name>[^/\s'\"]+)(?:/(?P<version>[^/\s'\"]+))?")


def model_from_path(path: str | None) -> dict[str, Any]:
    """The model a looked-up path implies: `…/azureml-models/NAME/VERSION/…` → name and version."""
    text = path or ""
    match = _MODEL_PATH.search(text)
    if match:
        return {"name": match.group("name"), "version": match.group("version")}
    leaf = text.rstrip("/").rsplit("/", 1)[-1]
    return {"name": leaf or None, "version": None}


def model_folders(paths: list[str] | None) -> list[str]:
    """`NAME/VERSION` of every model folder in a model-dir listing, sorted."""
    found = set()
    for path in paths or []:
        match = _MODEL_PATH.search(path)
        if match and match.group("version"):
            found.add(f"{match.group('name')}/{match.group('version')}")
    return sorted(found)


def pip_package(module: str | None) -> str:
    """The pip package that provides an importable module (`sklearn` → `scikit-learn`)."""
    from doctor.packages import pip_package as provider

    return provider(module)


# The environment variable a SageMaker serving container's start script passes to gunicorn as `--timeout`, 60 s when
# unset: the bring-your-own template's `serve` (aws/amazon-sagemaker-examples, scikit_bring_your_own) reads
# MODEL_SERVER_TIMEOUT; SageMaker's framework containers (sagemaker-containers' HostingEnvironment) read
# SAGEMAKER_MODEL_SERVER_TIMEOUT.
SAGEMAKER_TIMEOUT_VARIABLES = ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "MODEL_SERVER_TIMEOUT")
SAGEMAKER_SERVER_TIMEOUT_S = 60.0


def worker_timeout(states: list[dict[str, Any]] | None, config: dict[str, Any] | None,
                   logged: Any = None, azmlinfsrv: bool = True, sagemaker: bool = False) -> dict[str, Any]:
    """The gunicorn worker timeout in force and where it comes from: env, config, the log, or the default (a SageMaker
    serving container's start script's when the log is one's)."""
    names = ("WORKER_TIMEOUT", *SAGEMAKER_TIMEOUT_VARIABLES) if sagemaker else ("WORKER_TIMEOUT",)
    for state in states or []:
        for name in names:
            value = (state.get("env") or {}).get(name)
            if _is_number(value):
                return {"seconds": float(value), "source": f"the {name} environment variable of the container"}
    for state in states or []:
        value = _flag_value(state.get("command") or [], ("--timeout", "-t"))
        if _is_number(value):
            return {"seconds": float(value), "source": "gunicorn's `--timeout` in the container command"}
    value = ((config or {}).get("environment_variables") or {}).get("WORKER_TIMEOUT")
    if _is_number(value):
        return {"seconds": float(value), "source": "environment_variables.WORKER_TIMEOUT in the deployment config"}
    if _is_number(logged):
        return {"seconds": float(logged), "source": "the server's start-up log"}
    if azmlinfsrv:
        return {"seconds": 300.0, "source": "azmlinfsrv's default (WORKER_TIMEOUT unset)"}
    if sagemaker:
        return {"seconds": SAGEMAKER_SERVER_TIMEOUT_S,
                "source": "the SageMaker serving script's default: neither `MODEL_SERVER_TIMEOUT` nor "
                          "`SAGEMAKER_MODEL_SERVER_TIMEOUT` is set"}
    return {"seconds": 30.0, "source": "gunicorn's default `--timeout`"}


def _flag_value(command: list[str], names: tuple[str, ...]) -> str | None:
    """The value of `--flag N`, `--flag=N` or `-t N` in a command line (also inside a `sh -c` string)."""
    words = [w for part in command for w in str(part).split()]
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def suggest_initial_delay(observed_seconds: float, failure_threshold: float, period: float) -> int:
    """An initial delay giving 1.5 × the observed start-up, rounded up to 10 s: delay + threshold × period ≥ 1.5 × observed."""
    needed = float(observed_seconds) * 1.5 - float(failure_threshold) * float(period)
    return max(10, int(math.ceil(needed / 10.0)) * 10)


_SETTING_FALLBACK.update({
    "worker_timeout": {"": "the `WORKER_TIMEOUT` environment variable (azmlinfsrv passes it to gunicorn as `--timeout`)"},
    "liveness_initial_delay": {"k8s": "livenessProbe.initialDelaySeconds", "": "the liveness probe's initial delay"},
    "liveness_failure_threshold": {"k8s": "livenessProbe.failureThreshold", "": "the liveness probe's failure threshold"},
    "liveness_period": {"k8s": "livenessProbe.periodSeconds", "": "the liveness probe's period"},
})
TEMPLATE_FUNCTIONS.update({
    "model_from_path": model_from_path,
    "model_folders": model_folders,
    "pip_package": pip_package,
    "worker_timeout": worker_timeout,
    "suggest_initial_delay": suggest_initial_delay,
})


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from one ISO time to another (as bindings and states carry them); None when either is missing."""
    from datetime import datetime

    try:
        first = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    return round((last - first).total_seconds(), 3)


TEMPLATE_FUNCTIONS["seconds_between"] = seconds_between


# --- probes (issue 15): the setting of the probe that actually fails, in the user's dialect --------------------

_K8S_PROBE_FIELDS = {"initial_delay": "initialDelaySeconds", "failure_threshold": "failureThreshold",
                     "period": "periodSeconds", "timeout": "timeoutSeconds", "path": "httpGet.path",
                     "port": "httpGet.port", "tcp_port": "tcpSocket.port", "command": "exec.command"}
_V1_PROBE_FIELDS = {"initial_delay": ("livenessProbeRequirements.initialDelaySeconds", "initial_delay_seconds"),
                    "failure_threshold": ("livenessProbeRequirements.failureThreshold", "failure_threshold"),
                    "period": ("livenessProbeRequirements.periodSeconds", "period_seconds"),
                    "timeout": ("livenessProbeRequirements.timeoutSeconds", "timeout_seconds")}


def probe_setting(config: dict[str, Any] | None, kind: str | None, name: str, platform: str = "k8s") -> str:
    """A probe setting of the probe kind that fails (`readinessProbe.periodSeconds`, `readiness_probe.period`, …)."""
    kind = (kind or "liveness").lower()
    dialects = " ".join((config or {}).get("dialects") or [])
    if "azureml-v2" in dialects and name in _V1_PROBE_FIELDS:
        return f"`{kind}_probe.{name}`"
    if "azureml-v1" in dialects and name in _V1_PROBE_FIELDS:
        if kind != "liveness":
            return f"the {kind} probe's {name.replace('_', ' ')} (Azure ML v1 sets only the liveness probe)"
        json_path, sdk = _V1_PROBE_FIELDS[name]
        return f"`{sdk}=`" if (config or {}).get("dialect") == "v1-sdk" else f"`{json_path}`"
    if platform != "k8s" and name in _V1_PROBE_FIELDS:
        return f"the {kind} probe's {name.replace('_', ' ')}"
    return f"`{kind}Probe.{_K8S_PROBE_FIELDS.get(name, name)}`"


_PROBE_URL = re.compile(r"(?:Get|GET) \"?(?P<scheme>https?)://(?P<host>[^:/\"\s]+)(?::(?P<port>\d+))?(?P<path>/[^\"\s:]*)?")
_DIAL = re.compile(r"dial tcp (?P<host>[\w.\-\[\]:]+?):(?P<port>\d+): (?P<error>[^\n]+)")
_STATUS = re.compile(r"statuscode: (?P<code>\d{3})")
_ON_PORT = re.compile(r"(?i)probe failed for container \S* ?on port (?P<port>\d+)|on port (?P<port2>\d+)")
_LISTEN = re.compile(r"(?i)(?:listening (?:at|on):?|running on|serving on|bound to) (?:https?://)?(?P<host>[\w.\-]+|\[[\w:]+\]):(?P<port>\d+)")


def probe_detail(message: str | None) -> dict[str, Any]:
    """What a probe failure message says: the problem class, HTTP status, URL parts, the port and the exec output."""
    text = message or ""
    detail = re.sub(r"^.*?(?:Liveness|Readiness|Startup|STARTUP|LIVENESS|READINESS) (?:TCP |HTTP )?probe (?:failed|errored):? ?",
                    "", text, count=1)
    out: dict[str, Any] = {"detail": detail.strip(), "status": None, "host": None, "port": None, "path": None}
    if (url := _PROBE_URL.search(text)):
        out.update(host=url.group("host"), port=url.group("port"), path=url.group("path") or "/")
    if (dial := _DIAL.search(text)):
        out["host"], out["port"] = out["host"] or dial.group("host"), out["port"] or dial.group("port")
    if not out["port"] and (on := _ON_PORT.search(text)):
        out["port"] = on.group("port") or on.group("port2")
    if (status := _STATUS.search(text)):
        out["status"] = int(status.group("code"))
    out["problem"] = _probe_problem(text, out)
    return out


def _probe_problem(text: str, out: dict[str, Any]) -> str:
    lowered = text.lower()
    if out["status"]:
        return "not-found" if out["status"] in (404, 405) else ("server-error" if out["status"] >= 500 else "http-status")
    if "server gave http response to https client" in lowered:
        return "scheme"
    if "connection refused" in lowered or "tcp probe failed" in lowered:
        return "refused"
    if "deadline exceeded" in lowered or "timeout" in lowered or "timed out" in lowered:
        return "timeout"
    if out["detail"] and not out["host"] and "probe" not in out["detail"].lower():
        return "exec"
    return "unknown"


def listen_address(lines: list[str] | None) -> dict[str, Any] | None:
    """Where the server says it listens (`Listening at: http://0.0.0.0:5001`, `Uvicorn running on http://127.0.0.1:8000`)."""
    for line in lines or []:
        if (found := _LISTEN.search(line or "")):
            host = found.group("host")
            return {"host": host, "port": int(found.group("port")),
                    "loopback": host in ("127.0.0.1", "localhost", "[::1]", "::1")}
    return None


TEMPLATE_FUNCTIONS.update({"probe_setting": probe_setting, "probe_detail": probe_detail, "listen_address": listen_address})


# --- which code imported a missing module (issue 15) ----------------------------------------------------------

# modules the Azure ML inference server (or the Flask stack under it) imports itself, with what fixes each
_SERVER_MODULES: dict[str, str] = {
    "distutils": ("Python 3.12 removed `distutils` from the standard library and azureml-inference-server-http 1.3.x "
                  "still imports it: build the environment with Python 3.11 (`python=3.11` in the conda file), or use "
                  "a server release that no longer imports it (or add `setuptools`, which provides it)"),
    "azureml.contrib": ("azureml-inference-server-http 1.3.0 to 1.3.4 import `azureml.contrib.services` at start: pin "
                        "`azureml-inference-server-http<1.3` (or a release >= 1.4 on Python >= 3.9)"),
    "azureml.ai": ("the scoring script the image generates for MLflow models imports `azureml.ai.monitoring`: add "
                   "`azureml-ai-monitoring` to the model's environment (conda.yaml)"),
}
_SERVER_TOPS = ("azureml_inference_server_http", "azureml", "flask", "werkzeug", "jinja2", "itsdangerous", "markupsafe",
                "click", "inference_schema", "gunicorn", "distutils", "opencensus")


def server_module(module: str | None) -> bool:
    """True for a module the inference server stack imports itself (flask, azureml.*, inference_schema, …)."""
    top = (module or "").split(".")[0]
    return top.lower() in _SERVER_TOPS


def server_module_fix(module: str | None) -> str | None:
    """What fixes a module the inference server itself cannot import, when it is a known case."""
    name = module or ""
    return next((fix for key, fix in _SERVER_MODULES.items() if name == key or name.startswith(key + ".")), None)


def importer_of(missing: dict[str, Any] | None, **frames: dict[str, Any] | None) -> str | None:
    """Which kind of frame imported the missing module: the kind whose last frame is nearest before the last error.

    Frame kinds may overlap (every package frame is also a frame): on a tie the kind named later wins, so pass
    them from the most general to the most specific.
    """
    if not missing:
        return None
    best: tuple[int, str] | None = None
    for name, frame in frames.items():
        if not frame or frame.get("source") != missing.get("source"):
            continue
        line = int(frame.get("last_line") or 0)
        if 0 < line <= int(missing.get("last_line") or 0) and (best is None or line >= best[0]):
            best = (line, name)
    return best[1] if best else None


_KSERVE_BUILTIN = re.compile(r"(?:/workspace)?/(sklearn|xgb|lgb|pmml|paddle|huggingface|pytorch)server/\1server/")


def library_file(path: str | None) -> bool:
    """Whether a traceback frame's file is an installed package's or Python's own, or a KServe built-in model server's
    in its image (`/xgbserver/xgbserver/model.py`): not the application's code."""
    return bool(path) and ("-packages/" in path or "/lib/python" in path or _KSERVE_BUILTIN.match(path) is not None)


# system libraries Python packages load, by the file name the loader could not find (the version suffix left out):
# the Debian/Ubuntu package that installs it, and the module that usually loads it
_SYSTEM_LIBRARIES: dict[str, tuple[str, str | None]] = {
    "libGL.so": ("libgl1", "cv2"),
    "libgthread-2.0.so": ("libglib2.0-0", "cv2"),
    "libglib-2.0.so": ("libglib2.0-0", "cv2"),
    "libSM.so": ("libsm6", "cv2"),
    "libXext.so": ("libxext6", "cv2"),
    "libXrender.so": ("libxrender1", "cv2"),
    "libgomp.so": ("libgomp1", "lightgbm"),
    "libsndfile.so": ("libsndfile1", "soundfile"),
    "libgfortran.so": ("libgfortran5", None),
    "libopenblas.so": ("libopenblas0", None),
    "libaio.so": ("libaio1", None),
    "libpq.so": ("libpq5", "psycopg2"),
    "libodbc.so": ("unixodbc", "pyodbc"),
    "libmagic.so": ("libmagic1", "magic"),
    "libzbar.so": ("libzbar0", "pyzbar"),
    "libtesseract.so": ("libtesseract5", None),
}


def _system_library(lib: str | None) -> tuple[str, str | None] | None:
    name = re.sub(r"(?:\.\d+)+$", "", lib or "")
    return _SYSTEM_LIBRARIES.get(name)


def system_package(lib: str | None) -> str | None:
    """The Debian/Ubuntu package that installs a shared library (`libGL.so.1` → `libgl1`), when it is a known one."""
    known = _system_library(lib)
    return known[0] if known else None


def library_module(lib: str | None) -> str | None:
    """The Python module that usually loads a shared library (`libGL.so.1` → `cv2`), when it is a known one."""
    known = _system_library(lib)
    return known[1] if known else None


TEMPLATE_FUNCTIONS.update({"server_module": server_module, "server_module_fix": server_module_fix,
                           "importer_of": importer_of, "library_file": library_file,
                           "system_package": system_package, "library_module": library_module})


# --- image pulls (issue 15): which registry, and what it answered ---------------------------------------------

_PULL_PROBLEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("certificate", ("x509:", "certificate signed by unknown authority", "tls: failed to verify", "certificate is not valid")),
    # an imagePullSecrets entry of the service account names a secret that does not exist: Knative's tag resolver
    # stops on it (`failed to initialize authentication: secrets "NAME" not found`), where the kubelet ignores it
    ("pull-secret-missing", ('failed to initialize authentication: secret',)),
    ("not-found", ("manifest unknown", "not found", "name unknown", "NotFound", "InvalidImageName", "invalid reference format")),
    ("not-found-or-private", ("repository does not exist or may require",)),
    ("rate-limit", ("toomanyrequests", "pull rate limit")),
    ("authentication", ("nauthorized", "authentication required", "no basic auth credentials", "403 Forbidden",
                        "denied", "no credentials")),
    ("network", ("i/o timeout", "no such host", "TLS handshake timeout", "connection refused", "dial tcp",
                 "network is unreachable", "context deadline exceeded")),
)
_REGISTRY_KINDS = ((".azurecr.io", "acr"), (".dkr.ecr.", "ecr"), ("docker.io", "docker-hub"), ("ghcr.io", "ghcr"),
                   ("quay.io", "quay"), ("mcr.microsoft.com", "mcr"), ("gcr.io", "gcr"), ("pkg.dev", "gcr"),
                   ("nvcr.io", "nvcr"))
PUBLIC_REGISTRIES = ("docker-hub", "ghcr", "quay", "mcr", "gcr", "nvcr")


def pull_facts(image: str | None, detail: str | None, reason: str | None = None) -> dict[str, Any]:
    """What an image pull failure says: the registry (host and kind), repository, tag, and the problem class."""
    ref = (image or "").strip()
    first, _, rest = ref.partition("/")
    explicit = bool(rest) and ("." in first or ":" in first or first == "localhost")
    host = first if explicit else "docker.io"
    path = rest if explicit else ref
    name, tag = path, None
    if "@" in path:
        name = path.split("@", 1)[0]
    elif ":" in path.rsplit("/", 1)[-1]:
        name, tag = path.rsplit(":", 1)
    kind = next((k for needle, k in _REGISTRY_KINDS if needle in host), "private")
    text = f"{detail or ''} {reason or ''}"
    problem = next((p for p, needles in _PULL_PROBLEMS if any(n in text for n in needles)), "unknown")
    if problem == "not-found-or-private" and kind != "docker-hub":
        problem = "authentication"
    return {"host": host, "registry_kind": kind, "public": kind in PUBLIC_REGISTRIES, "repository": name or None,
            "tag": tag, "implied_latest": bool(ref) and tag is None and "@" not in ref, "problem": problem,
            "acr_name": host.split(".")[0] if kind == "acr" else None}


TEMPLATE_FUNCTIONS["pull_facts"] = pull_facts


# --- scheduling (issue 15): each reason the scheduler gives, in both its old and new wordings --------------------

_SCHED_PARTS = (
    ("insufficient", re.compile(r"(?P<count>\d+) Insufficient (?P<what>[\w./-]*\w)")),
    ("taint", re.compile(r"(?P<count>\d+) node\(s\) had (?:untolerated )?taints? (?P<what>\{[^}\n]*\})")),
    ("taint", re.compile(r"(?P<count>\d+) node\(s\) had (?P<what>taints) that the pod didn't tolerate")),
    ("selector", re.compile(r"(?P<count>\d+) node\(s\) didn't match (?:Pod's )?node (?:affinity/)?selector")),
    ("affinity", re.compile(r"(?P<count>\d+) node\(s\) didn't match (?:Pod's node affinity(?!/selector)|pod (?:anti-)?affinity rules)")),
    ("cordoned", re.compile(r"(?P<count>\d+) node\(s\) were unschedulable")),
    ("volume-zone", re.compile(r"(?P<count>\d+) node\(s\) had volume node affinity conflict")),
    ("ports", re.compile(r"(?P<count>\d+) node\(s\) didn't have free ports")),
    ("pods", re.compile(r"(?P<count>\d+) Too many pods")),
    ("pvc", re.compile(r"(?P<count>)pod has unbound (?:immediate )?PersistentVolumeClaims")),
)


def scheduling_reasons(message: str | None) -> list[dict[str, Any]]:
    """Each reason of a FailedScheduling message: kind (insufficient, taint, selector, affinity, cordoned, pvc, …),
    how many nodes, and what (the resource, or the taint `{key: value}`), in the message's order."""
    text = (message or "").split(" preemption:")[0]
    found: list[tuple[int, dict[str, Any]]] = []
    aml = re.search(r"(?P<what>[A-Za-z/]+) resource insufficient, (?P<count>\d+) replicas? unschedulable", text)
    if aml:  # Azure ML v1 on AKS: "Unschedulable: CPU/Memory resource insufficient, 1 replicas unschedulable"
        names = {"cpu": "cpu", "memory": "memory", "gpu": "nvidia.com/gpu"}
        for word in aml.group("what").lower().split("/"):
            found.append((aml.start(), {"kind": "insufficient", "nodes": None, "what": names.get(word, word)}))
    for kind, pattern in _SCHED_PARTS:
        for match in pattern.finditer(text):
            what = match.groupdict().get("what")
            found.append((match.start(), {"kind": kind, "nodes": int(match.group("count") or 0) or None,
                                          "what": None if what == "taints" else what}))
    found.sort(key=lambda item: item[0])
    return [item for _, item in found]


TEMPLATE_FUNCTIONS["scheduling_reasons"] = scheduling_reasons


_SCHED_HEADLINES = {"taint": "a node taint it does not tolerate", "selector": "no node matches its node selector/affinity",
                    "affinity": "no node fits its affinity rules", "cordoned": "nodes cordoned",
                    "pvc": "its PersistentVolumeClaim is not bound", "volume-zone": "its volume is in another zone",
                    "ports": "its host port is taken", "pods": "nodes full of pods"}


def scheduling_headline(reasons: list[dict[str, Any]] | None) -> str:
    """The reasons of a FailedScheduling message in a few words each: `not enough cpu, memory; a node taint …`."""
    scarce = list(dict.fromkeys(r["what"] for r in reasons or [] if r["kind"] == "insufficient" and r.get("what")))
    parts = []
    for kind in dict.fromkeys(r["kind"] for r in reasons or []):
        parts.append("not enough " + ", ".join(scarce) if kind == "insufficient" else _SCHED_HEADLINES.get(kind, kind))
    return "; ".join(parts) or "the scheduler found no fitting node"


TEMPLATE_FUNCTIONS["scheduling_headline"] = scheduling_headline


def unmatched_labels(selector: dict[str, str] | None, nodes: list[dict[str, Any]] | None,
                     queried_none: bool = False) -> list[str]:
    """The `key=value` labels of a pod's nodeSelector that no node in the evidence carries (all of them when a pasted
    `kubectl get nodes -l` found none; none when the nodes were not collected, since nothing shows which is missing)."""
    pairs = [f"{k}={v}" for k, v in (selector or {}).items()]
    if queried_none or not nodes:
        return pairs if queried_none else []
    return [f"{k}={v}" for k, v in (selector or {}).items()
            if not any((n.get("labels") or {}).get(k) == v for n in nodes)]


TEMPLATE_FUNCTIONS["unmatched_labels"] = unmatched_labels


# --- memory (issue 15): the limit that bites, and a size derived from what was observed -------------------------


def memory_setting(config: dict[str, Any] | None, target_kind: str = "") -> str:
    """The memory setting that bites, in the user's dialect: the limit when the config sets one apart from the request
    (Azure ML v1 `memoryInGBLimit` / `memory_gb_limit=`), else the dialect's memory setting."""
    names = (config or {}).get("settings") or {}
    if (config or {}).get("memory_gb_limit") is not None and names.get("memory_gb_limit"):
        return f"{names['memory_gb_limit']} (the limit; {names.get('memory_gb', 'the request')} is only the request)"
    return setting(config, "memory_gb", target_kind)


def memory_suggestion(limit_bytes: float | None, peak_bytes: float | None = None, kills: int | None = None) -> dict[str, Any] | None:
    """Memory to set, with the inputs written out: 1.5 × an observed peak; without one, the limit the process was
    killed at is a lower bound, and twice it is a first step to measure from."""
    if not limit_bytes and not peak_bytes:
        return None
    if peak_bytes:
        raw = float(peak_bytes) * 1.5 / GIB
        gb_ = max(math.ceil(raw * 2) / 2, math.ceil((float(limit_bytes or 0) / GIB + 0.5) * 2) / 2 if limit_bytes else 0)
        return {"gb": gb_, "basis": "peak",
                "formula": f"1.5 × the observed peak of {gb(peak_bytes)} = {_n(round(raw, 2))} GB, rounded up to {_n(gb_)} GB"}
    limit_gb = float(limit_bytes or 0) / GIB
    gb_ = max(math.ceil(limit_gb * 2 * 2) / 2, math.ceil((limit_gb + 0.5) * 2) / 2)
    killed = f", killed {kills} time(s) at it" if kills else ""
    return {"gb": gb_, "basis": "limit",
            "formula": (f"the process needs more than the {gb(limit_bytes)} limit{killed}; no peak was measured, so the "
                        f"larger of 2 × {gb(limit_bytes)} and {gb(limit_bytes)} + 0.5 GB, rounded up to 0.5 GB, is a first "
                        f"step: measure the peak with `mldoctor preflight` (or the working set in Prometheus) and size from it")}


TEMPLATE_FUNCTIONS.update({"memory_setting": memory_setting, "memory_suggestion": memory_suggestion})


def quantity(value: Any) -> str:
    """Bytes as a Kubernetes quantity, the way manifests write them: 300Mi, 2Gi, 1536Mi."""
    if value is None or value == "":
        return "unknown"
    size = int(float(value))
    for unit, factor in (("Gi", GIB), ("Mi", 2**20), ("Ki", 2**10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


TEMPLATE_FILTERS["quantity"] = quantity


def eviction_request(used: str | None, request: str | None, resource: str | None = "memory") -> dict[str, Any] | None:
    """What to request for a container the kubelet evicted under node pressure for using more than its request:
    its use plus 20 %, rounded up to 256Mi (memory) or 1Gi (ephemeral-storage). None when the use is unreadable."""
    from doctor.convert import quantity as parse

    used_bytes, request_bytes = parse(used), parse(request)
    if used_bytes is None or resource not in ("memory", "ephemeral-storage"):
        return None
    step = 2**30 if resource == "ephemeral-storage" else 256 * 2**20
    value = max(step, math.ceil(used_bytes * 1.2 / step) * step)
    return {"value": quantity(value), "used": quantity(math.ceil(used_bytes / 2**20) * 2**20),
            "request_bytes": request_bytes, "no_request": not request_bytes,
            "formula": f"its use ({used}) + 20 %, rounded up to {quantity(step)}"}


TEMPLATE_FUNCTIONS["eviction_request"] = eviction_request


def ray_unplaceable(required: str | None, available: str | None) -> dict[str, Any] | None:
    """Ray Serve's `Resources required for each replica: {...}, resources available: {...}` (JSON objects): the
    resources no node offers (`missing`) and those offered in smaller amounts than one replica asks (`short`)."""
    import json

    try:
        need, have = json.loads(required or ""), json.loads(available or "")
    except ValueError:
        return None
    if not isinstance(need, dict) or not isinstance(have, dict):
        return None
    numbers = (int, float)
    missing = [k for k, v in need.items() if isinstance(v, numbers) and v > 0 and k not in have]
    short = [k for k, v in need.items() if isinstance(v, numbers) and k in have and isinstance(have[k], numbers) and have[k] < v]
    return {"missing": missing, "short": short}


TEMPLATE_FUNCTIONS["ray_unplaceable"] = ray_unplaceable


def webhook_of(message: str | None) -> str | None:
    """The admission webhook the API server could not call (`failed calling webhook "NAME": …` in an API error or a
    FailedCreate event); None when the message names none."""
    marker = 'failed calling webhook "'
    if not message or marker not in message:
        return None
    return message.split(marker, 1)[1].split('"', 1)[0] or None


TEMPLATE_FUNCTIONS["webhook_of"] = webhook_of

_EXCEPTION_AT = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w{0,100}\.){0,10}[A-Za-z_]\w{0,100}(?:Error|Exception): ")


def from_exception(line: str | None) -> str:
    """A log line from the exception it reports on (`mms.service.PredictionException: …` behind a CloudWatch export's
    columns and a logger's prefix), the line as it is when it names none."""
    if not line:
        return ""
    found = _EXCEPTION_AT.search(line)
    return line[found.start():] if found else line


TEMPLATE_FUNCTIONS["from_exception"] = from_exception


def quoted(text: str | None) -> str:
    """Evidence text in quotes a reader can tell from the text: `"…"`, or backticks when the text has `"` of its own
    (a CloudWatch export's CSV columns: `1717449617113,"2024-06-03T21:20:13,924 …"`)."""
    text = text or ""
    return f"`{text}`" if '"' in text and "`" not in text else f'"{text}"'


TEMPLATE_FUNCTIONS["quoted"] = quoted



def denied_dir(said: str | None, error: str | None) -> str | None:
    """The folder of the file a process was refused: Python's `Permission denied: '/app/models/x.pth'` anywhere in
    `said`, else the path before a shell's or a program's `: Permission denied` in `error` (`/run.sh: Permission
    denied`, the line's last word before it, when that is an absolute path); `/` for a file at the root, None when
    neither names a path."""
    quoted_path = (said or "").partition("Permission denied: '")[2].partition("'")[0]
    if "/" in quoted_path:
        return quoted_path.rsplit("/", 1)[0] or "/"
    words = (error or "").partition(": Permission denied")[0].split() if ": Permission denied" in (error or "") else []
    if words and words[-1].startswith("/"):
        return words[-1].rsplit("/", 1)[0] or "/"
    return None


TEMPLATE_FUNCTIONS["denied_dir"] = denied_dir

# the dynamic loader's `LIB: version `GLIBC_2.39' not found (required by X)`: which runtime library the version node
# belongs to, and the base images whose own copy has it. Only releases whose versions are certain are listed: glibc
# of Debian 11 (2.31), Ubuntu 20.04 (2.31), Ubuntu 22.04 (2.35), Debian 12 (2.36), Ubuntu 24.04 (2.39); libstdc++
# from GCC 12 (GLIBCXX_3.4.30) in Ubuntu 22.04 and Debian 12, a newer one in Ubuntu 24.04. A library provides every
# version node up to its own, so an image with a newer one serves an older requirement.
_GLIBC_IMAGES: tuple[tuple[tuple[int, ...], str], ...] = (
    ((2, 31), "Debian 11"), ((2, 31), "Ubuntu 20.04"), ((2, 35), "Ubuntu 22.04"), ((2, 36), "Debian 12"),
    ((2, 39), "Ubuntu 24.04"))
_LIBSTDCXX_IMAGES: tuple[tuple[tuple[int, ...], str], ...] = (
    ((3, 4, 30), "Ubuntu 22.04"), ((3, 4, 30), "Debian 12"), ((3, 4, 30), "Ubuntu 24.04"))
_GLIBCXX_GCC = {(3, 4, 21): "GCC 5", (3, 4, 30): "GCC 12"}
_LOADER_SYMBOL = re.compile(r"(GLIBCXX|GLIBC|CXXABI|GCC)_(\d+(?:\.\d+)*)")


def loader_symbol(symbol: str | None) -> dict[str, Any] | None:
    """What a version node the loader did not find means (`GLIBC_2.39`, `GLIBCXX_3.4.30`, `CXXABI_1.3.13`,
    `GCC_12.0.0`): `library` (`glibc`, `libstdc++`, `libgcc_s`), `version` (`2.39`), `gcc` (the GCC release whose
    libstdc++ first has it, where certain: `GCC 12`) and `images` (base images whose own library has it, where
    certain: `["Ubuntu 24.04"]`, else empty); None for anything else."""
    found = _LOADER_SYMBOL.fullmatch((symbol or "").strip())
    if not found:
        return None
    kind, version = found.groups()
    numbers = tuple(int(part) for part in version.split("."))
    library = {"GLIBC": "glibc", "GLIBCXX": "libstdc++", "CXXABI": "libstdc++", "GCC": "libgcc_s"}[kind]
    table = _GLIBC_IMAGES if kind == "GLIBC" else _LIBSTDCXX_IMAGES if kind == "GLIBCXX" else ()
    return {"library": library, "version": version, "gcc": _GLIBCXX_GCC.get(numbers) if kind == "GLIBCXX" else None,
            "images": [name for has, name in table if has >= numbers]}


TEMPLATE_FUNCTIONS["loader_symbol"] = loader_symbol


_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def private_ipv4(host: str | None) -> str | None:
    """The host when it is an IPv4 address of a private network (RFC 1918: 10/8, 172.16/12, 192.168/16), reachable only
    from that network; None for any other address or a host name."""
    try:
        address = ipaddress.ip_address((host or "").strip())
    except ValueError:
        return None
    return str(address) if address.version == 4 and any(address in net for net in _PRIVATE_V4) else None


TEMPLATE_FUNCTIONS["private_ipv4"] = private_ipv4

from doctor.calc_gpu import GPU_FUNCTIONS  # noqa: E402 (GPU sizing for gpu-oom, a module of its own)

TEMPLATE_FUNCTIONS.update(GPU_FUNCTIONS)
