"""mldoctor preflight shim of `inference_schema.parameter_types`."""
