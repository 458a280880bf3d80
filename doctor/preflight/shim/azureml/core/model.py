"""`Model.get_model_path` resolved the way the SDK does inside a deployed service (AZUREML_MODEL_DIR, then ./NAME)."""

import os
from typing import Optional

from azureml.exceptions import ModelNotFoundException

# the SDK's text; kept off the `raise` line so the traceback's source line does not repeat it
_NOT_FOUND = "Model not found in cache or in root at ./{}. For more info,set logging level to DEBUG."


def _single_entry(path: str) -> str:
    """A version folder holding one file or folder resolves to that entry, as in the SDK."""
    entries = sorted(os.listdir(path))
    return os.path.join(path, entries[0]) if len(entries) == 1 else path


def _latest(folder: str) -> Optional[str]:
    versions = [v for v in os.listdir(folder) if os.path.isdir(os.path.join(folder, v))]
    return max(versions, key=lambda v: (v.isdigit(), int(v) if v.isdigit() else 0, v)) if versions else None


def _from_model_dir(model_dir: str, name: str, version: Optional[int]) -> Optional[str]:
    parent = os.path.dirname(os.path.normpath(model_dir))
    if os.path.basename(parent) == name and (version is None or os.path.basename(model_dir) == str(version)):
        return _single_entry(model_dir)
    folder = os.path.join(model_dir, name)
    if os.path.isdir(folder):
        chosen = str(version) if version is not None else _latest(folder)
        if chosen and os.path.isdir(os.path.join(folder, chosen)):
            return _single_entry(os.path.join(folder, chosen))
    return None


class Model:
    """The registered-model handle; only the serving-time static method is provided."""

    @staticmethod
    def get_model_path(model_name: str, version: Optional[int] = None, _workspace: object = None) -> str:
        """The local path of a deployed model, or ModelNotFoundException with the SDK's message."""
        model_dir = os.environ.get("AZUREML_MODEL_DIR")
        if model_dir and os.path.isdir(model_dir):
            found = _from_model_dir(model_dir, model_name, version)
            if found:
                return found
        if os.path.exists(model_name):
            return model_name
        raise ModelNotFoundException(_NOT_FOUND.format(model_name))
