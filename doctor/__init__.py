"""mldoctor: diagnoses failing ML model deployments."""

__version__ = "0.1.0"
