"""Service configuration files understood by content: Azure ML v1/v2 deployment configs, environment
files, scoring scripts, Kubernetes objects. Each becomes a ConfigFact with dialect-neutral keys, the
name of each setting in the user's own dialect (`settings`), and the documented defaults it assumed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable


from doctor import yamlsafe
from doctor.convert import quantity
from doctor.errors import InputError
from doctor.evidence import ConfigFact, LogSource

MAX_CONFIG_BYTES = 16 * 1024 * 1024
GIB = 1024**3

# normalised key -> (v1 deploymentconfig.json path, v1 SDK parameter, documented default) (azureml-facts §2.1)
V1_KEYS: dict[str, tuple[str, str, Any]] = {
    "memory_gb": ("containerResourceRequirements.memoryInGB", "memory_gb", 0.5),
    "memory_gb_limit": ("containerResourceRequirements.memoryInGBLimit", "memory_gb_limit", None),
    "cpu_cores": ("containerResourceRequirements.cpu", "cpu_cores", 0.1),
    "gpu_cores": ("gpuCores", "gpu_cores", None),
    "autoscale_enabled": ("autoScaler.autoscaleEnabled", "autoscale_enabled", None),
    "autoscale_min_replicas": ("autoScaler.minReplicas", "autoscale_min_replicas", 1),
    "autoscale_max_replicas": ("autoScaler.maxReplicas", "autoscale_max_replicas", 10),
    "autoscale_refresh_seconds": ("autoScaler.refreshPeriodInSeconds", "autoscale_refresh_seconds", 1),
    "autoscale_target_utilization": ("autoScaler.targetUtilization", "autoscale_target_utilization", 70),
    "scoring_timeout_ms": ("scoringTimeoutMs", "scoring_timeout_ms", 60000),
    "max_concurrent_requests": ("maxConcurrentRequestsPerContainer", "replica_max_concurrent_requests", 1),
    "max_request_wait_time_ms": ("maxQueueWaitMs", "max_request_wait_time", 500),
    "num_replicas": ("numReplicas", "num_replicas", None),
    "liveness_initial_delay": ("livenessProbeRequirements.initialDelaySeconds", "initial_delay_seconds", 310),
    "liveness_period": ("livenessProbeRequirements.periodSeconds", "period_seconds", 10),
    "liveness_timeout": ("livenessProbeRequirements.timeoutSeconds", "timeout_seconds", 2),
    "liveness_failure_threshold": ("livenessProbeRequirements.failureThreshold", "failure_threshold", 3),
}
_V1_MARKERS = ("computeType", "containerResourceRequirements", "autoScaler", "memory_gb", "cpu_cores",
               "autoscale_enabled", "scoringTimeoutMs", "scoring_timeout_ms", "livenessProbeRequirements")
# v2 online deployment YAML (azureml-facts §2.4, §2.5): normalised key -> (YAML path, default)
V2_KEYS: dict[str, tuple[str, Any]] = {
    "request_timeout_ms": ("request_settings.request_timeout_ms", 5000),
    "max_concurrent_requests": ("request_settings.max_concurrent_requests_per_instance", 1),
    "max_request_wait_time_ms": ("request_settings.max_queue_wait_ms", 500),
    "instance_count": ("instance_count", None),
    "instance_type": ("instance_type", None),
    "liveness_initial_delay": ("liveness_probe.initial_delay", 10),
    "liveness_period": ("liveness_probe.period", 10),
    "liveness_timeout": ("liveness_probe.timeout", 2),
    "liveness_failure_threshold": ("liveness_probe.failure_threshold", 30),
    "readiness_failure_threshold": ("readiness_probe.failure_threshold", 30),
    "autoscale_min_replicas": ("scale_settings.min_instances", 1),
    "autoscale_max_replicas": ("scale_settings.max_instances", 1),
    "autoscale_target_utilization": ("scale_settings.target_utilization_percentage", 70),
}


def read_config(path: Path, label: str | None = None) -> list[ConfigFact]:
    """What the file is and says (empty when it is none of the known kinds); InputError when malformed."""
    label = label or str(path)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(f"larger than {MAX_CONFIG_BYTES} bytes", label)
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", label) from None
    return config_facts(data, label)


def config_facts(data: bytes, label: str) -> list[ConfigFact]:
    """What a config file's bytes are and say (empty when none of the known kinds); InputError when malformed."""
    from doctor.bundle_paths import decoded

    text = decoded(data)
    for reader in READERS:
        facts = reader(text, label)
        if facts:
            return facts
    return []


def _structured(text: str, label: str) -> Any:
    stripped = text.lstrip()
    if not stripped or stripped.startswith(("def ", "import ", "from ", "#!", "\"\"\"")):
        return None
    try:
        if stripped[:1] in "{[":
            return json.loads(text)
        return yamlsafe.safe_load(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", label) from None
    except yamlsafe.errors():
        return None  # plain text (a deploy log, requirements.txt) is not YAML: other readers decide
    except yamlsafe.YamlRefused as err:
        raise InputError(f"refused: {err} at line {err.line}", label) from None
    except ValueError as err:  # a number of 5,000 digits: Python refuses the value
        raise InputError(f"a value mldoctor cannot read ({err})", label) from None
    except RecursionError:
        raise InputError("nested too deeply to read", label) from None


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _lines(text: str, keys: list[str]) -> dict[str, int]:
    """The line each setting's last path segment first appears on, for SARIF locations."""
    found: dict[str, int] = {}
    lines = text.splitlines()
    for key in keys:
        leaf = key.split(".")[-1]
        for number, line in enumerate(lines, 1):
            if re.search(rf"[\"']?\b{re.escape(leaf)}\b[\"']?\s*[:=]", line):
                found[key] = number
                break
    return found


def _v1(text: str, label: str) -> list[ConfigFact]:
    data = _structured(text, label)
    if not isinstance(data, dict) or not any(k in data for k in _V1_MARKERS):
        return []
    sdk = any(v[1] in data for v in V1_KEYS.values()) and not any(k in data for k in ("containerResourceRequirements", "autoScaler"))
    values: dict[str, Any] = {"compute_type": str(data.get("computeType") or data.get("compute_type") or "").lower() or None}
    settings: dict[str, str] = {}
    assumed = []
    for key, (json_path, param, default) in V1_KEYS.items():
        value = data.get(param) if sdk else _get(data, json_path)
        settings[key] = f"{param}=" if sdk else json_path
        if value is None and default is not None:
            value = default
            assumed.append(key)
        values[key] = value
    if values["autoscale_enabled"] is None:
        values["autoscale_enabled"] = values["num_replicas"] is None
        assumed.append("autoscale_enabled")
    if values.get("memory_gb") is not None:
        values["memory_limit_bytes"] = int(float(values.get("memory_gb_limit") or values["memory_gb"]) * GIB)
    values["settings"] = settings
    values["dialect"] = "v1-sdk" if sdk else "v1-json"
    return [ConfigFact(label, "azureml-v1", values, tuple(assumed), _lines(text, list(settings.values())))]


def _v2(text: str, label: str) -> list[ConfigFact]:
    data = _structured(text, label)
    if not isinstance(data, dict) or "endpoint_name" not in data and "managedOnlineDeployment" not in str(data.get("$schema", "")):
        return []
    kubernetes = "kubernetesOnline" in str(data.get("$schema", "")) or "resources" in data
    values: dict[str, Any] = {"name": data.get("name"), "endpoint_name": data.get("endpoint_name"),
                              "model": data.get("model") if isinstance(data.get("model"), str) else None,
                              **_model_ref(data.get("model"))}
    settings, assumed = {}, []
    for key, (path, default) in V2_KEYS.items():
        value = _get(data, path)
        settings[key] = path
        if value is None and default is not None:
            value, _ = default, assumed.append(key)
        values[key] = value
    limits = _get(data, "resources.limits") or {}
    if isinstance(limits, dict) and limits.get("memory"):
        values["memory_limit_bytes"] = int(quantity(limits["memory"]) or 0) or None
        settings["memory_gb"] = "resources.limits.memory"
    else:
        settings["memory_gb"] = "instance_type"
    settings["worker_timeout"] = "environment_variables.WORKER_TIMEOUT"
    values["settings"] = settings
    values["dialect"] = "v2-kubernetes" if kubernetes else "v2-managed"
    values["environment_variables"] = data.get("environment_variables") or {}
    kind = "azureml-v2-kubernetes" if kubernetes else "azureml-v2-managed"
    return [ConfigFact(label, kind, values, tuple(assumed), _lines(text, list(settings.values())))]


def _model_ref(model: Any) -> dict[str, Any]:
    """`azureml:NAME:VERSION` (or an inline `{name, version}`) → model_name, model_version."""
    if isinstance(model, dict):
        version = model.get("version")
        return {"model_name": model.get("name"), "model_version": str(version) if version is not None else None}
    parts = str(model).removeprefix("azureml:").split(":") if isinstance(model, str) else []
    if not parts or "/" in parts[0]:
        return {"model_name": None, "model_version": None}
    return {"model_name": parts[0], "model_version": parts[1] if len(parts) > 1 else None}


_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(?:([<>=!~]=?|===)\s*([^\s;#,]+))?")


def _environment(text: str, label: str) -> list[ConfigFact]:
    data = _structured(text, label) if text.lstrip()[:1] not in ("-",) or "dependencies" in text else None
    packages: list[str] = []
    if isinstance(data, dict) and "dependencies" in data:
        for dep in data.get("dependencies") or []:
            if isinstance(dep, str):
                packages.append(dep.replace(" ", ""))
            elif isinstance(dep, dict):
                packages.extend(str(p).replace(" ", "") for p in dep.get("pip") or [])
        source = "conda"
    elif _looks_like_requirements(text):
        packages = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
        source = "pip"
    else:
        return []
    parsed = {}
    for spec in packages:
        match = _REQ.match(spec)
        if match:
            name = re.sub(r"\[.*\]", "", match.group(1)).lower().replace("_", "-")
            parsed[name] = (match.group(2) or "") + (match.group(3) or "")
    values = {"packages": parsed, "requirements": packages, "format": source, **server_checks(parsed)}
    names = ["dependencies", "pip", "azureml-defaults", "azureml-inference-server-http", "flask"]
    return [ConfigFact(label, "environment", values, (), _package_lines(text, names))]


def _package_lines(text: str, names: list[str]) -> dict[str, int]:
    """The line each package (or key) is first named on."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for name in names:
            if name not in found and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", line, re.I):
                found[name] = number
    return found


SERVER_PACKAGES = ("azureml-inference-server-http", "azureml-defaults")


def version_tuple(text: str) -> tuple[int, ...]:
    """`1.0.45` → (1, 0, 45); non-numeric parts stop the tuple (`2.0rc1` → (2, 0))."""
    parts = []
    for piece in text.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def pinned_below(spec: str | None, bound: str) -> bool:
    """True when a requirement spec pins (or caps) the version below `bound` (`==0.4.10` vs `0.4.11`)."""
    match = re.match(r"(==|~=|===|<=|<)\s*([\w.*]+)", spec or "")
    if not match:
        return False
    version = version_tuple(match.group(2))
    return bool(version) and (version < version_tuple(bound) or match.group(1) == "<" and version <= version_tuple(bound))


def at_least(spec: str | None, major: int) -> bool:
    """True when a spec requires (or pins) this major version or later (`flask>=2`, `flask==2.2.5`)."""
    match = re.match(r"(==|~=|===|>=|>)\s*([\w.*]+)", spec or "")
    return bool(match) and version_tuple(match.group(2))[:1] >= (major,)


def server_checks(packages: dict[str, str]) -> dict[str, Any]:
    """What an environment says about the inference server (azureml-facts §1.1.10, §1.2.5, §3.8)."""
    server = next((name for name in SERVER_PACKAGES if name in packages), None)
    spec = packages.get(server) if server else None
    flask2 = at_least(packages.get("flask"), 2)
    old_for_flask2 = pinned_below(packages.get("azureml-inference-server-http"), "0.7.0") or pinned_below(
        packages.get("azureml-defaults"), "1.44")
    problems = []
    if flask2 and old_for_flask2:
        problems.append("Flask 2 with azureml-inference-server-http < 0.7.0 / azureml-defaults < 1.44 "
                        "(TypeError: register() takes 3 positional arguments but 4 were given)")
    if pinned_below(packages.get("azureml-inference-server-http"), "0.4.11"):
        problems.append("azureml-inference-server-http <= 0.4.10 does not pin Flask's dependencies "
                        "(ImportError: cannot import name 'Markup' from 'jinja2')")
    return {"server_package": server, "server_spec": spec, "has_inference_server": server is not None,
            "server_too_old": server == "azureml-defaults" and pinned_below(spec, "1.0.45"),
            "flask_spec": packages.get("flask"), "version_problems": problems}


def _looks_like_requirements(text: str) -> bool:
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    return bool(lines) and all(_requirement_line(l) for l in lines[:50]) and not any(l.endswith(":") for l in lines)


_PROPERTY_VALUE = re.compile(r"=\s*[^\s=<>!~]*[^\w.*+!\s]")  # `key=value` whose value is no version: `=http://…`, `={…}`


def _requirement_line(line: str) -> bool:
    """A pip requirement (or a conda `name=version` spec), not a `key=value` property: TorchServe's config.properties
    (`models={"model1":…}`, `inference_address=http://…`) was read as a requirements file without the inference server."""
    match = _REQ.match(line)
    if not match or " " in line.split(";")[0].strip():
        return False
    return not (match.group(2) == "=" and _PROPERTY_VALUE.match(line, match.end(1)))


def _score_script(text: str, label: str) -> list[ConfigFact]:
    if not re.search(r"^\s*def\s+(init|run)\s*\(", text, re.M):
        return []
    from doctor import scoring

    return [ConfigFact(label, "score-script", scoring.analyse(text, label))]


def _ray_serve_config(text: str, label: str) -> list[ConfigFact]:
    """Ray Serve's config file (`serve deploy config.yaml`, a RayService's `serveConfigV2`): one application's
    `import_path` at the top (Ray up to 2.4), or an `applications:` list. Each application's `import_path`
    (`module:attribute` or `module.attribute`), the module and the file it implies, and the deployments it names."""
    if "import_path" not in text:
        return []
    data = _structured(text, label)
    if not isinstance(data, dict):
        return []
    listed = data.get("applications")
    apps: list[dict[str, Any]] = []
    for app in listed if isinstance(listed, list) else [data]:
        if not isinstance(app, dict) or not isinstance(app.get("import_path"), str):
            continue
        path = app["import_path"].strip()
        module = path.split(":", 1)[0] if ":" in path else path.rsplit(".", 1)[0]
        runtime_env = app.get("runtime_env") if isinstance(app.get("runtime_env"), dict) else {}
        apps.append({"name": app.get("name"), "import_path": path, "module": module,
                     "module_file": module.replace(".", "/") + ".py", "route_prefix": app.get("route_prefix"),
                     "deployments": [str(d["name"]) for d in app.get("deployments") or []
                                     if isinstance(d, dict) and d.get("name")],
                     "working_dir": runtime_env.get("working_dir")})
    if not apps:
        return []
    values = {"apps": apps, **{key: apps[0][key] for key in ("import_path", "module", "module_file")}}
    return [ConfigFact(label, "ray-serve-config", values, (), _lines(text, ["import_path", "deployments"]))]


def deploy_logs(facts: list[ConfigFact]) -> list[LogSource]:
    """The deploy outputs among these facts as logs (rules match their text as a log); the reader's many patterns
    are compiled only when there is one."""
    found = [f for f in facts if f.kind == "deploy-output"]
    if not found:
        return []
    from doctor.collect.deploy_output import as_log

    return [as_log(f) for f in found]


def _deploy_output(text: str, label: str) -> list[ConfigFact]:
    from doctor.collect.deploy_output import read_deploy_output

    return read_deploy_output(text, label)


def from_k8s_object(obj: dict[str, Any], source: str) -> list[ConfigFact]:
    """A Deployment / StatefulSet / HPA / Service object's settings (replicas, limits, autoscaler state)."""
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    if kind == "HorizontalPodAutoscaler":
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        limited = [c for c in status.get("conditions") or [] if c.get("type") == "ScalingLimited" and c.get("status") == "True"]
        target = next((m.get("resource", {}).get("target", {}).get("averageUtilization")
                       for m in spec.get("metrics") or [] if m.get("type") == "Resource"), None)
        values = {"name": meta.get("name"), "min_replicas": spec.get("minReplicas", 1), "max_replicas": spec.get("maxReplicas"),
                  "current_replicas": status.get("currentReplicas"), "desired_replicas": status.get("desiredReplicas"),
                  "target_utilization": target or spec.get("targetCPUUtilizationPercentage"),
                  "scaling_limited": bool(limited), "scaling_limited_message": limited[0].get("message") if limited else None}
        return [ConfigFact(source, "hpa", values)]
    if kind in ("Deployment", "StatefulSet"):
        spec = obj.get("spec") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
        limits = (containers[0].get("resources") or {}).get("limits") or {} if containers else {}
        values = {"name": meta.get("name"), "replicas": spec.get("replicas"),
                  "ready_replicas": (obj.get("status") or {}).get("readyReplicas"),
                  "memory_limit_bytes": int(quantity(limits.get("memory")) or 0) or None,
                  "settings": {**K8S_SETTINGS}, "dialect": "kubernetes",
                  **(_k8s_container(containers[0]) if containers else {})}
        return [ConfigFact(source, "k8s-" + kind.lower(), values)]
    return []


K8S_SETTINGS = {"memory_gb": "resources.limits.memory", "liveness_initial_delay": "livenessProbe.initialDelaySeconds",
                "liveness_failure_threshold": "livenessProbe.failureThreshold", "liveness_period": "livenessProbe.periodSeconds",
                "worker_timeout": "the WORKER_TIMEOUT env entry of the container"}
# Kubernetes probe defaults when a field is absent (kubernetes.io: initialDelaySeconds 0, periodSeconds 10, failureThreshold 3)
_K8S_PROBE = {"initialDelaySeconds": ("liveness_initial_delay", 0), "periodSeconds": ("liveness_period", 10),
              "failureThreshold": ("liveness_failure_threshold", 3)}


def _k8s_container(container: dict[str, Any]) -> dict[str, Any]:
    """The first container's env (plain values only) and liveness probe timing."""
    env = {e["name"]: e["value"] for e in container.get("env") or [] if "name" in e and "value" in e}
    values: dict[str, Any] = {"environment_variables": env}
    probe = container.get("livenessProbe")
    if isinstance(probe, dict):
        values.update({key: probe.get(field, default) for field, (key, default) in _K8S_PROBE.items()})
    return values


def _k8s_manifest(text: str, label: str) -> list[ConfigFact]:
    """A Kubernetes manifest the user keeps: a Deployment, StatefulSet or HPA, read as its live object is; a
    SeldonDeployment or KServe InferenceService, for its model URIs (`_serving_manifest`)."""
    data = _structured(text, label)
    if not isinstance(data, dict):
        return []
    if data.get("kind") in ("SeldonDeployment", "InferenceService"):
        return _serving_manifest(data, text, label)
    if "apiVersion" not in data or data.get("kind") not in ("Deployment", "StatefulSet", "HorizontalPodAutoscaler"):
        return []
    return from_k8s_object(data, label)


# A model file's name, not a folder's: the last part of a URI ends in one of these.
_MODEL_FILE = re.compile(r"\.(?:joblib|pkl|pickle|bst|ubj|json|onnx|pt|pth|h5|keras|pb|mar|safetensors|txt)$", re.IGNORECASE)


def _serving_manifest(data: dict[str, Any], text: str, label: str) -> list[ConfigFact]:
    """A SeldonDeployment or KServe InferenceService manifest: its models' URIs (`modelUri`, `storageUri`), the first
    one naming a file rather than a folder, and the implementation or model format that serves it."""
    models: list[dict[str, Any]] = []
    spec = data.get("spec") or {}
    if data["kind"] == "SeldonDeployment":
        stack = [p.get("graph") for p in spec.get("predictors") or [] if isinstance(p, dict)]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict):
                models.append({"name": node.get("name"), "uri": node.get("modelUri"), "server": node.get("implementation")})
                stack.extend(node.get("children") or [])
    else:
        predictor = spec.get("predictor") or {}
        for key, part in predictor.items():
            if isinstance(part, dict) and "storageUri" in part:
                server = ((part.get("modelFormat") or {}).get("name") if key == "model" else key)
                models.append({"name": (data.get("metadata") or {}).get("name"), "uri": part.get("storageUri"),
                               "server": server})
    models = [m for m in models if isinstance(m.get("uri"), str)]
    file_uri = next((m for m in models if _MODEL_FILE.search(m["uri"].rstrip())), None)
    values = {"object_kind": data["kind"], "name": (data.get("metadata") or {}).get("name"), "models": models,
              "file_uri": file_uri["uri"] if file_uri else None,
              "file_server": str(file_uri.get("server") or "") if file_uri else None}
    return [ConfigFact(label, "serving-manifest", values, (), _lines(text, ["modelUri", "storageUri"]))]


READERS: list[Callable[[str, str], list[ConfigFact]]] = [_score_script, _v2, _v1, _k8s_manifest, _environment,
                                                          _ray_serve_config, _deploy_output]
