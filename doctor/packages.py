"""Which pip packages provide an importable module: the one table, for preflight's environment check and the
rules' fix texts (`pip_package(...)`)."""

from __future__ import annotations

# import name -> pip/conda names that provide it, where they differ from the import name; the first is the one
# to add (headless OpenCV: a server has no display)
PIP_NAMES: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn",),
    "cv2": ("opencv-python-headless", "opencv-python", "opencv", "opencv-contrib-python"),
    "PIL": ("pillow",),
    "yaml": ("pyyaml",),
    "skimage": ("scikit-image",),
    "bs4": ("beautifulsoup4",),
    "dateutil": ("python-dateutil",),
    "dotenv": ("python-dotenv",),
    "google": ("protobuf", "google-cloud-storage"),
    "attr": ("attrs",),
    "Crypto": ("pycryptodome",),
    "jwt": ("pyjwt",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"),
    "torch": ("torch", "pytorch", "pytorch-cpu"),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "azureml": ("azureml-defaults", "azureml-core", "azureml-inference-server-http"),
    "azureml.api": ("azure-ml-api-sdk", "azureml-defaults"),  # the v1 scoring server's (MicrosoftLearning/mslearn-dp100#37)
    "azureml_inference_server_http": ("azureml-inference-server-http",),
    "inference_schema": ("inference-schema", "azureml-defaults"),
    "mlflow": ("mlflow", "mlflow-skinny"),
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost", "py-xgboost"),
    "transformers": ("transformers",),
    "mysql": ("mysql-connector-python",),
    "ts": ("torchserve",),
    "model_archiver": ("torch-model-archiver",),
    "mlserver_sklearn": ("mlserver-sklearn",),
    "ruamel": ("ruamel.yaml",),  # a namespace: `import ruamel.yaml` (microsoft/azuredevopslabs#562)
    "fitz": ("pymupdf",),
    "docx": ("python-docx",),
    "magic": ("python-magic",),
    "Levenshtein": ("levenshtein",),
}


def providers(module: str) -> tuple[str, ...]:
    """The pip names that provide a module (by its top-level name), the one to add first."""
    top = module.split(".")[0]
    return PIP_NAMES.get(module) or PIP_NAMES.get(top) or (top.lower().replace("_", "-"),)


def pip_package(module: str | None) -> str:
    """The pip package to add for an importable module (`sklearn.linear_model` → `scikit-learn`)."""
    return providers(module or "")[0]
