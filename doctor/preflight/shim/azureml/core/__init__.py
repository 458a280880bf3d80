"""mldoctor preflight shim of `azureml.core`: only what a scoring script uses at serving time."""

from azureml.core.model import Model

__all__ = ["Model"]
