"""The SDK's exception names that scoring scripts catch."""


class AzureMLException(Exception):
    """Root of the SDK's exceptions."""


class WebserviceException(AzureMLException):
    """A web service operation failed."""


class ModelNotFoundException(AzureMLException):
    """Model.get_model_path found nothing."""
