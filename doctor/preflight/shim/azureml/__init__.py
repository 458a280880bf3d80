"""mldoctor preflight shim: stands in for the Azure ML SDK when it is not installed."""
