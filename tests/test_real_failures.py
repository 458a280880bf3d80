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

# https://github.com/knative/serving/issues/9090 : the controller could not reach gcr.io; skipping tag resolution fixed it
KNATIVE_DIGEST = ('    Message:                     Revision "helloworld-go-g5kql" failed with message: Unable to fetch image '
                  '"gcr.io/knative-samples/helloworld-go": failed to resolve image to digest: Get "https://gcr.io/v2/": '
                  'dial tcp 64.233.188.82:443: connect: connection refused.\n'
                  '    Reason:                      RevisionFailed\n')


def test_knative_tag_resolution_is_the_controllers_not_a_node_pull() -> None:
    first = _first(logs=KNATIVE_DIGEST)
    assert first.rule_id == "image-pull-failure" and first.values["resolver"] == "knative"
    assert "no node tried to pull" in first.cause and "connection refused" in first.cause
    assert "`gcr.io` to `registries-skipping-tag-resolving`" in first.fix and "config-deployment" in first.fix
    assert "imagePullSecrets" not in first.fix  # not a credentials problem
