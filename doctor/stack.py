"""Which serving stack the target runs: from the container's command, image, environment, the log's own format
and the service's config files. Shown in the report; rule templates read it (`stack.name`, `stack.settings`) to
name the stack's own setting (TorchServe's config.properties, MLServer's model-settings.json, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from doctor.evidence import Evidence

HEAD_BYTES = 64 * 1024  # the banner and first lines of a log say which server wrote it


@dataclass(frozen=True, slots=True)
class StackInfo:
    """What a stack is called and where its own settings live."""

    name: str
    title: str
    settings: str  # the file or object a user changes for this stack


@dataclass(frozen=True, slots=True)
class Stack:
    """A detected stack: which one, its version when the evidence shows it, and what gave it away."""

    info: StackInfo
    version: str | None
    signals: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the JSON report and rule templates."""
        return {"name": self.info.name, "title": self.info.title, "version": self.version,
                "settings": self.info.settings, "signals": list(self.signals)}


STACKS: dict[str, StackInfo] = {s.name: s for s in (
    StackInfo("azmlinfsrv", "Azure ML inference server (azmlinfsrv)", "the deployment's environment variables "
              "(WORKER_COUNT, WORKER_TIMEOUT) and the v2 deployment YAML"),
    StackInfo("azureml-legacy", "Azure ML legacy inference image (runit + gunicorn)", "deploy_configuration / deploymentconfig.json"),
    StackInfo("mlserver", "Seldon MLServer", "model-settings.json (and settings.json)"),
    StackInfo("kserve", "KServe model server", "the InferenceService spec (spec.predictor)"),
    StackInfo("torchserve", "TorchServe", "config.properties"),
    StackInfo("bentoml", "BentoML", "the @bentoml.service(...) arguments / bentofile.yaml"),
    StackInfo("triton", "NVIDIA Triton Inference Server", "config.pbtxt"),
    StackInfo("vllm", "vLLM", "the vllm serve flags"),
    StackInfo("tgi", "Hugging Face Text Generation Inference", "the text-generation-launcher flags"),
    StackInfo("ray-serve", "Ray Serve", "the Serve deployment options"),
    StackInfo("gunicorn", "gunicorn (Flask/WSGI app)", "the gunicorn command line / gunicorn.conf.py"),
)}

# (stack, regex over the command line) — the most direct signal
_COMMANDS: tuple[tuple[str, str], ...] = (
    ("azmlinfsrv", r"(?:^|[/\s])azmlinfsrv\b|azureml_inference_server_http"),
    ("mlserver", r"(?:^|[/\s])mlserver\s+start\b|-m mlserver\b"),
    ("torchserve", r"(?:^|[/\s])torchserve\b|org\.pytorch\.serve"),
    ("bentoml", r"(?:^|[/\s])bentoml\s+(?:serve|start)"),
    ("triton", r"(?:^|[/\s])tritonserver\b"),
    ("vllm", r"(?:^|[/\s])vllm\s+serve\b|vllm\.entrypoints"),
    ("tgi", r"text-generation-launcher|text-generation-router"),
    ("ray-serve", r"(?:^|[/\s])serve\s+(?:run|deploy)\b"),
    ("kserve", r"kserve|sklearnserver|xgbserver|lgbserver|huggingfaceserver|pytorchserver"),
    ("gunicorn", r"(?:^|[/\s])gunicorn\b"),
)
# (stack, regex over the image reference)
_IMAGES: tuple[tuple[str, str], ...] = (
    ("azmlinfsrv", r"azureml/minimal|azureml/.*inference|azureml-inference"),
    ("mlserver", r"seldonio/mlserver|mlserver"),
    ("kserve", r"kserve|kfserving"),
    ("torchserve", r"torchserve"),
    ("bentoml", r"bentoml"),
    ("triton", r"tritonserver"),
    ("vllm", r"vllm"),
    ("tgi", r"text-generation-inference"),
    ("ray-serve", r"rayproject/ray"),
)
# (stack, environment variable name prefix or name)
_ENV: tuple[tuple[str, str], ...] = (
    ("mlserver", "MLSERVER_"), ("torchserve", "TS_"), ("bentoml", "BENTOML_"), ("kserve", "KSERVE_"),
    ("vllm", "VLLM_"), ("azmlinfsrv", "AZUREML_ENTRY_SCRIPT"), ("azmlinfsrv", "AZUREML_MODEL_DIR"),
)
# (stack, regex over the head of a log, optional version group)
_LOGS: tuple[tuple[str, str], ...] = (
    ("azmlinfsrv", r"Azure ML Inferencing HTTP server v(?P<v>[\d.]+)|azmlinfsrv(?:\.\w+)? - "),
    ("azureml-legacy", r"\| gunicorn/run \| AzureML|gunicorn/run "),
    ("mlserver", r"\[mlserver[\].]|mlserver\.(?:grpc|rest|parallel)|MLServer v?(?P<v>\d[\d.]+)"),
    ("torchserve", r"Torchserve version: (?P<v>[\d.]+)|org\.pytorch\.serve"),
    ("bentoml", r"\[bentoml(?:-cli)?[\].]|BentoServer|bentoml\.(?:serve|access)|\] \[entry_service:[\w.]+:\d+\] |_bentoml_sdk/"),
    ("triton", r"Triton Inference Server|tritonserver|TRITONBACKEND_|[IWE]\d{4} [\d:.]+ +\d+ (?:model_lifecycle|model_repository_manager|plan_bundle|backend_model|grpc_server)\.cc:\d+\]"),
    ("vllm", r"vLLM API server version (?P<v>[\d.]+\S*)|\bvllm[./](?:entrypoints|engine|worker|v1)\b|\bvllm serve "),
    ("tgi", r"text_generation_launcher|text_generation_router|Args \{ model_id"),
    ("ray-serve", r"\bray\.serve\b|ServeController|\(ServeReplica:"),
    ("kserve", r"\bkserve(?:\.\w+)? (?:INFO|ERROR|WARNING) \[|INFO:kserve|kserve\.ModelServer\(|-packages/kserve/"
               r"|File \"/(?:sklearn|xgb|lgb|pmml|paddle|huggingface)server/(?:sklearn|xgb|lgb|pmml|paddle|huggingface)server/"),
    ("gunicorn", r"Starting gunicorn (?P<v>[\d.]+)"),
)


def detect(evidence: Evidence) -> Stack | None:
    """The stack the evidence shows, by the strongest signal (command > log banner > image > env > config)."""
    votes: dict[str, list[str]] = {}
    versions: dict[str, str] = {}
    for state in evidence.states:
        _vote(votes, _match(_COMMANDS, " ".join(state.command)), f"command `{_short(' '.join(state.command))}`")
        _vote(votes, _match(_IMAGES, state.image or ""), f"image {state.image}")
        for key, _ in state.env:
            _vote(votes, next((s for s, p in _ENV if key.startswith(p)), None), f"env {key}")
    for source in evidence.logs:
        if source.kind == "container":
            found, version = _log_stack(source.open)
            _vote(votes, found, f"log format of {source.name}")
            if found and version:
                versions.setdefault(found, version)
    for cfg in evidence.configs:
        _vote(votes, _config_stack(cfg.kind, cfg.values), f"config {cfg.source}")
    if not votes:
        return None
    name = max(votes, key=lambda s: (_weight(votes[s]), -_rank(s)))
    return Stack(STACKS[name], versions.get(name), tuple(dict.fromkeys(votes[name])))


def _vote(votes: dict[str, list[str]], stack: str | None, why: str) -> None:
    if stack:
        votes.setdefault(stack, []).append(why)


def _weight(signals: list[str]) -> int:
    """A command names the server outright; a banner nearly so; image and env names are hints."""
    points = {"command": 8, "log": 4, "image": 2, "config": 2, "env": 1}
    return sum(points.get(s.split(" ", 1)[0], 1) for s in set(signals))


def _rank(name: str) -> int:
    """Ties go to the more specific stack (gunicorn serves azmlinfsrv too)."""
    return list(STACKS).index(name)


def _match(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    return next((stack for stack, pattern in table if text and re.search(pattern, text)), None)


def _short(text: str) -> str:
    return text if len(text) <= 48 else text[:45] + "..."


def _log_stack(opener: Any) -> tuple[str | None, str | None]:
    """The first stack whose format the head of a log shows, and its version when the banner gives it."""
    try:
        with opener() as stream:
            head = stream.read(HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return None, None
    for stack, pattern in _LOGS:
        found = re.search(pattern, head)
        if found:
            return stack, found.groupdict().get("v")
    return None, None


def _config_stack(kind: str, values: dict[str, Any]) -> str | None:
    if kind.startswith("azureml-v2") or kind == "azureml-v1" or kind == "score-script":
        return "azmlinfsrv"
    if kind == "ray-serve-config" or (kind == "deploy-output" and values.get("serve")):  # a Serve config, `serve status`
        return "ray-serve"
    return None


def stack_of(evidence: Evidence) -> dict[str, Any] | None:
    """The detected stack as plain values (computed once per evidence), or None when nothing shows it."""
    if "stack" not in evidence.cache:
        found = detect(evidence)
        evidence.cache["stack"] = found.as_dict() if found else None
    cached: dict[str, Any] | None = evidence.cache["stack"]
    return cached
