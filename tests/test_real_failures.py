"""The right rule, cause and fix first on real failure texts of other serving stacks (issue 15), every built-in rule
running together. Each text is copied verbatim from the public thread cited beside it, unless it says generated."""

from __future__ import annotations

from typing import Any

from doctor.findings import Finding
from doctor.rules.engine import diagnose
from doctor.rules.examples import example_evidence
from doctor.rules.loader import load_rules
from doctor.rules.model import Example

RULES = load_rules([])

# https://github.com/kubeflow/fairing/issues/196 : the image had no seldon-core, so its serving command is missing
SELDON_EXEC = ('container_linux.go:247: starting container process caused "exec: \\"seldon-core-microservice\\": '
               'executable file not found in $PATH"\n')


def _first(**data: Any) -> Finding:
    report = diagnose(example_evidence(Example("case", data, True)), RULES)
    assert report.findings, "no finding"
    return report.findings[0]


def test_a_missing_serving_executable_names_the_package_not_the_model_code() -> None:
    first = _first(logs=SELDON_EXEC)
    assert first.rule_id == "missing-inference-server"
    assert "`seldon-core-microservice`" in first.cause and "model code is never reached" in first.cause
    assert "pip install seldon-core" in first.fix and "azureml-defaults" not in first.fix
