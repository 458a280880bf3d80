"""mldoctor preflight shim of `azureml.contrib`."""
