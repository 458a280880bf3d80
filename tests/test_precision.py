"""The right cause first, on real texts, with every built-in rule running together: the root cause is the first
finding, its consequences follow it and name it, and the look-alike is not what comes first.

Each text is copied verbatim from the public thread cited beside it (or, where said, built from real lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from doctor.rules.engine import diagnose
from doctor.rules.examples import example_evidence
from doctor.rules.loader import load_rules
from doctor.rules.model import Example

RULES = load_rules([])
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# https://github.com/imagegenius/docker-immich/issues/181 : workers time out while loading models at boot
IMMICH = """[2023-09-22 23:48:13 +0530] [2767] [INFO] Booting worker with pid: 2767
[2023-09-22 23:48:43 +0530] [1305] [CRITICAL] WORKER TIMEOUT (pid:2767)
[2023-09-22 23:48:45 +0530] [1305] [ERROR] Worker (pid:2767) was sent SIGKILL! Perhaps out of memory?
[2023-09-22 23:48:45 +0530] [2821] [INFO] Booting worker with pid: 2821
[2023-09-22 23:49:15 +0530] [1305] [CRITICAL] WORKER TIMEOUT (pid:2821)
[2023-09-22 23:49:16 +0530] [1305] [ERROR] Worker (pid:2821) was sent SIGKILL! Perhaps out of memory?
[2023-09-22 23:49:16 +0530] [2873] [INFO] Booting worker with pid: 2873
[2023-09-22 23:49:46 +0530] [1305] [CRITICAL] WORKER TIMEOUT (pid:2873)
"""
# https://github.com/Agenta-AI/agenta/issues/1506 : an environment variable the container never received
AGENTA = """Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
    import _app  # This will register the routes with the FastAPI application
  File "/app/_app.py", line 2, in <module>
    from shared.constants import UserType
  File "/app/shared/constants.py", line 39, in <module>
    REDACTED_BUCKET= os.environ["REDACTED_BUCKET"]
  File "/usr/local/lib/python3.10/os.py", line 680, in __getitem__
    raise KeyError(key) from None
KeyError: 'REDACTED_BUCKET'
"""
# https://github.com/microsoft/azureml-inference-server/issues/98 : the server imports distutils on Python 3.13
DISTUTILS = """  File "/azureml-envs/minimal/lib/python3.13/site-packages/azureml_inference_server_http/server/create_app.py", line 4, in <module>
    from distutils.version import LooseVersion
ModuleNotFoundError: No module named 'distutils'
"""
# https://github.com/microsoft/MLOpsPython/pull/126 : a model pickled with a newer scikit-learn (version skew)
PICKLE = ("File \"/azureml-envs/azureml_3921e717c180127e72729a5bd9ba1fe6/lib/python3.7/pickle.py\", line 1426, in "
          "find_class __import__(module, level=0) ModuleNotFoundError: No module named 'sklearn.linear_model._ridge'\n")
# https://github.com/llm-d/llm-d-inference-sim/issues/45 (events) : liveness answers 404, the kubelet restarts
SIM_404 = [{"reason": "Unhealthy", "type": "Warning", "count": 3, "message": "Liveness probe failed: HTTP probe failed with statuscode: 404"},
           {"reason": "Killing", "type": "Normal", "message": "Container vllm-standalone-3b-vllm-llama-3-3b-instruct failed liveness probe, will be restarted"}]
RESTARTED = [{"container": "vllm", "pod": "vllm-1", "status": "running", "ready": False, "restart_count": 6, "last_exit_code": 137,
              "last_reason": "Error"}]
# https://github.com/kubernetes/kubernetes/issues/43924 : the registry's certificate is not trusted
X509 = [{"reason": "Failed", "type": "Warning", "message": 'Failed to pull image "10.78.0.228:5000/monitorms": Error response from daemon: {"message":"Get https://10.78.0.228:5000/v1/_ping: x509: certificate signed by unknown authority"}'}]
# https://github.com/testdrivenio/spark-kubernetes/issues/2 : a taint in the older scheduler wording
TAINT = [{"reason": "FailedScheduling", "type": "Warning", "count": 20, "message": "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate."}]


def _report(**data: Any):  # type: ignore[no-untyped-def]
    return diagnose(example_evidence(Example("case", data, True)), RULES)


def _first(report):  # type: ignore[no-untyped-def]
    assert report.findings, "no finding"
    return report.findings[0]


def test_boot_timeouts_come_first_with_the_boot_fix_not_a_memory_one() -> None:
    report = _report(logs=IMMICH)
    first = _first(report)
    assert first.rule_id == "worker-timeout" and first.values["phase"] == "boot"
    assert "load the model once in `init()`" not in first.fix and "at least 120 s" in first.fix
    assert "worker-boot-loop" not in [f.rule_id for f in report.findings]
    assert {r.rule_id for r in first.ruled_out} >= {"oom-killed", "worker-boot-loop"}


def test_an_unset_environment_variable_is_not_a_missing_module() -> None:
    first = _first(_report(logs=AGENTA))
    assert first.rule_id == "init-failure" and first.values["missing_env"] == "REDACTED_BUCKET"
    assert "os.environ[\"REDACTED_BUCKET\"]" in first.cause and "Set `REDACTED_BUCKET`" in first.fix
    assert "missing-python-module" in {r.rule_id for r in first.ruled_out}


def test_the_servers_own_import_is_not_blamed_on_score_py() -> None:
    first = _first(_report(logs=DISTUTILS))
    assert first.rule_id == "missing-python-module" and first.values["importer"] == "server"
    assert "not score.py" in first.fix and "Python 3.11" in first.fix


def test_unpickling_with_another_version_is_not_reported_as_not_installed() -> None:
    first = _first(_report(logs=PICKLE))
    if first.rule_id == "missing-python-module":  # package-version-skew, where it matches, hides it
        assert first.values["version_skew"] is True
    assert "not installed" not in first.title and "not installed" not in first.cause
    assert "scikit-learn" in first.fix


def test_a_404_probe_is_the_path_not_a_slow_start_and_not_memory() -> None:
    report = _report(events=SIM_404, states=RESTARTED)
    first = _first(report)
    assert first.rule_id == "probe-failure" and first.values["problem"] == "not-found"
    assert "`livenessProbe.httpGet.path`" in first.fix and "initialDelaySeconds" not in first.fix
    assert "oom-killed" not in [f.rule_id for f in report.findings]


def test_a_certificate_error_is_quoted_and_explained() -> None:
    first = _first(_report(events=X509))
    assert first.rule_id == "image-pull-failure" and first.values["problem"] == "certificate"
    assert "x509: certificate signed by unknown authority" in first.cause and "reason not in the evidence" not in first.title


def test_a_taint_is_not_a_resource_shortage() -> None:
    first = _first(_report(events=TAINT))
    assert first.rule_id == "unschedulable" and "tolerations:" in first.fix
    assert "add nodes" not in first.fix


def test_a_slow_init_is_the_root_and_the_probe_restarts_its_consequence(cli) -> None:  # type: ignore[no-untyped-def]
    report = cli("check", str(FIXTURES / "k8s/probe-slow-load"), "--format", "json").json()
    ids = [(f["rule_id"], f["consequence_of"]) for f in report["findings"]]
    assert ids[0] == ("init-hang", None) and ("probe-failure", "init-hang") in ids
    assert ids.index(("probe-failure", "init-hang")) == 1  # right under its root


@pytest.mark.parametrize("bundle", ["bundles/docker-worker-timeout", "bundles/docker-boot-loop"])
def test_the_first_finding_is_never_a_consequence(cli, bundle: str) -> None:  # type: ignore[no-untyped-def]
    report = cli("check", str(FIXTURES / bundle), "--format", "json").json()
    assert report["findings"] and report["findings"][0]["consequence_of"] is None
