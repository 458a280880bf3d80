"""mldoctor preflight shim of `inference_schema`: decorators only record the parameter names."""
