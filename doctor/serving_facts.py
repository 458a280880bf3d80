"""What rule texts need to know about the serving stacks themselves: which package brings a server's executable,
which base image has it, and what file name a prebuilt model server loads. Template functions, pure data."""

from __future__ import annotations

import posixpath
from typing import Any

# executable -> (what provides it, how to install it, an image that has it)
_SERVER_BINARIES: dict[str, tuple[str, str, str]] = {
    "seldon-core-microservice": ("the `seldon-core` Python package", "pip install seldon-core",
                                 "seldonio/seldon-core-s2i-python3"),
    "mlserver": ("the `mlserver` Python package (with its runtime, e.g. `mlserver-sklearn`)",
                 "pip install mlserver mlserver-sklearn", "seldonio/mlserver"),
    "torchserve": ("the `torchserve` package (with `torch-model-archiver` and a Java runtime)",
                   "pip install torchserve torch-model-archiver", "pytorch/torchserve"),
    "bentoml": ("the `bentoml` Python package", "pip install bentoml", "a `bentoml containerize` image"),
    "tritonserver": ("NVIDIA Triton's server binary (not a pip package)", "build FROM nvcr.io/nvidia/tritonserver",
                     "nvcr.io/nvidia/tritonserver"),
    "text-generation-launcher": ("Hugging Face TGI's launcher (not a pip package)",
                                 "build FROM ghcr.io/huggingface/text-generation-inference",
                                 "ghcr.io/huggingface/text-generation-inference"),
    "vllm": ("the `vllm` Python package", "pip install vllm", "vllm/vllm-openai"),
    "uvicorn": ("the `uvicorn` Python package", "pip install uvicorn", "a Python image with uvicorn installed"),
}
SERVER_BINARY_PATTERN = "|".join(sorted(_SERVER_BINARIES, key=len, reverse=True))


def server_binary(name: str | None) -> dict[str, Any] | None:
    """The package, install line and base image that bring a serving executable, or None for an unknown one."""
    entry = _SERVER_BINARIES.get((name or "").rsplit("/", 1)[-1])
    if entry is None:
        return None
    provider, install, image = entry
    return {"name": name, "provider": provider, "install": install, "image": image}


def exec_not_found(text: str | None) -> str | None:
    """The executable an `exec: "NAME": executable file not found` message names (backslash-quoted or not)."""
    body = (text or "").replace('\\"', '"')
    marker = 'exec: "'
    if marker not in body or "executable file not found" not in body:
        return None
    return body.split(marker, 1)[1].split('"', 1)[0] or None


def model_file(path: str | None) -> str | None:
    """The file name a model lookup wanted (`/mnt/models/model.bst` -> `model.bst`), None for a folder."""
    base = posixpath.basename((path or "").rstrip())
    return base if "." in base.strip(".") else None


# (problem, needles) in the order they are tried: a model download's error, whatever the storage client
_STORAGE_PROBLEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("credentials", ("Unable to locate credentials", "NoCredentialsError", "DefaultCredentialsError",
                     "could not automatically determine credentials")),
    ("access-denied", ("AccessDenied", "Access Denied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403 Forbidden",
                       "(403)", "AuthorizationPermissionMismatch", "does not have storage.objects")),
    ("not-found", ("NoSuchBucket", "NoSuchKey", "bucket does not exist", "404 Not Found", "(404)", "ContainerNotFound")),
    ("endpoint", ("EndpointConnectionError", "Could not connect to the endpoint URL", "is_valid_endpoint",
                  "Name or service not known", "Connection refused")),
)


def storage_problem(text: str | None) -> str | None:
    """What a model download's error says: credentials, access-denied, not-found or endpoint (None: not one of them)."""
    body = text or ""
    return next((problem for problem, needles in _STORAGE_PROBLEMS if any(n in body for n in needles)), None)


TEMPLATE_FUNCTIONS: dict[str, Any] = {"server_binary": server_binary, "exec_not_found": exec_not_found,
                                      "model_file": model_file, "storage_problem": storage_problem}
