"""The right rule, cause and fix first on real failure texts of other serving stacks (issue 15), every built-in rule
running together. Each text is copied verbatim from the public thread cited beside it, unless it says generated."""

from __future__ import annotations

from pathlib import Path
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

# https://github.com/kserve/kserve/issues/1791 : the xgbserver loads /mnt/models/model.bst and the file was not there
XGB_MISSING = ("[I 210906 08:11:56 storage:50] Copying contents of /mnt/models to local\n"
               "[E 210906 08:11:56 __main__:45] fail to load model xe57583ad-cae3-44ae-aa73-7da0e129cfe4 from dir /mnt/models. "
               "exception type <class 'xgboost.core.XGBoostError'>, exception msg: b'[08:11:56] "
               "/workspace/dmlc-core/src/io/local_filesys.cc:209: Check failed: allow_null LocalFileSystem::Open "
               "\"/mnt/models/model.bst\": No such file or directory\\n\\nStack trace returned 10 entries:\\n\n")
# https://github.com/kserve/kserve/issues/1942 : the sklearn model was pickled to a file the server does not look for
SKLEARN_MISSING = ("[I 211213 04:25:33 storage:52] Copying contents of /mnt/models to local\n"
                   "[E 211213 04:25:33 __main__:37] fail to load model inf-sample from dir /mnt/models. exception type "
                   "<class 'RuntimeError'>, exception msg: Missing Model File.\n"
                   "[I 211213 04:25:33 kfserver:120] Setting asyncio max_workers as 5\n")


def test_a_kserve_server_that_found_no_model_file_names_the_file_it_loads() -> None:
    first = _first(logs=XGB_MISSING)
    assert first.rule_id == "model-not-found" and first.values["server"] == "kserve"
    assert "`/mnt/models/model.bst` does not exist" in first.cause and "init()" not in first.title
    assert "as `model.bst`" in first.fix and "storageUri" in first.fix and "AZUREML_MODEL_DIR" not in first.fix


def test_a_kserve_server_that_found_no_model_file_lists_the_names_it_accepts() -> None:
    first = _first(logs=SKLEARN_MISSING)
    assert first.rule_id == "model-not-found" and first.values["model_name"] == "inf-sample"
    assert "`model.joblib`" in first.fix and "`model.bst`" in first.fix and "storageUri" in first.fix

# https://github.com/MicrosoftDocs/azure-docs/issues/68044 : the v1 front end's 503 under concurrent requests
OVERLOADED = "Too many requests for service aks-deployment (overloaded)\n"
# https://github.com/pytorch/serve/issues/3361 : parallel requests; answered "Please increase job_queue_size"
TORCHSERVE_503 = """ERROR:  503
{
  "code": 503,
  "type": "ServiceUnavailableException",
  "message": "Model \\"restorer\\" has no worker to serve inference request. Please use scale workers API to add workers. If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize"
}
"""


def test_one_overloaded_answer_is_an_overload_with_the_replica_settings(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "client").mkdir()
    (tmp_path / "client" / "scoring_error.txt").write_text(OVERLOADED)
    report = cli("check", str(tmp_path), "--format", "json").json()
    first = report["findings"][0]
    assert first["rule_id"] == "overload-503" and "aks-deployment (overloaded)" in first["title"]
    assert "every replica was busy" in first["cause"] and "max_request_wait_time" in first["cause"]
    assert "autoscale_min_replicas" in first["fix"] and "replicas = ceil(" in first["fix"]


def test_torchserve_no_worker_503_is_its_queue_not_a_scoring_error() -> None:
    first = _first(logs=TORCHSERVE_503)
    assert first.rule_id == "overload-503" and first.values["busy_model"] == "restorer"
    assert "job_queue_size" in first.fix and "`job_queue_size`" in first.cause

# https://github.com/kserve/kserve/issues/1793 : MinIO refused the storage initializer's download
MINIO_DENIED = """[I 210907 03:40:05 storage:45] Copying contents of s3://test/cifar10 to local
Traceback (most recent call last):
  File "/storage-initializer/scripts/initializer-entrypoint", line 14, in <module>
    kfserving.Storage.download(src_uri, dest_path)
  File "/usr/local/lib/python3.7/site-packages/kfserving/storage.py", line 62, in download
    Storage._download_s3(uri, out_dir)
  File "/usr/local/lib/python3.7/site-packages/kfserving/storage.py", line 89, in _download_s3
    for obj in objects:
  File "/usr/local/lib/python3.7/site-packages/minio/api.py", line 2297, in _list_objects
    query=query,
  File "/usr/local/lib/python3.7/site-packages/minio/api.py", line 2229, in _url_open
    object_name).get_exception()
minio.error.AccessDenied: AccessDenied: message: Access Denied
"""


def test_a_storage_initializer_refused_access_is_a_permission_fix_not_a_predictor_bug() -> None:
    first = _first(logs=MINIO_DENIED)
    assert first.rule_id == "init-container-failure" and first.values["storage_problem"] == "access-denied"
    assert "minio.error.AccessDenied" in first.cause and "s3://test/cifar10" in first.cause
    assert "s3:GetObject" in first.fix and "score.py" not in first.fix

# https://github.com/Azure/azure-sdk-for-python/issues/41536 : the v2 SDK's image build failure (its log link answered 409)
IMAGE_BUILD = ("ERROR: (UserError) Image build failed. Build log: https://acrtaskprodweu013.blob.core.windows.net/"
               "container-dee26eff3a33424593981f27ba060ce1/logs/cb9u/rawtext.log\nCode: UserError\nMessage: Image build "
               "failed. Build log: https://acrtaskprodweu013.blob.core.windows.net/container-dee26eff3a33424593981f27ba060ce1/"
               "logs/cb9u/rawtext.log\n")
# https://github.com/Azure/MachineLearningNotebooks/issues/808 : the v1 deployment polling timed out
TIMED_OUT = """ERROR - Service deployment polling reached non-successful terminal state, current service state: Unhealthy
Operation ID: 5dcd070b-469b-4c41-aeab-59fe04f47ee7
More information can be found using '.get_logs()'
Error:
{
  "code": "DeploymentTimedOut",
  "statusCode": 504,
  "message": "The deployment operation polling has TimedOut. The service creation is taking longer than our normal time. We are still trying to achieve the desired state for the web service. Please check the webservice state for the current webservice health. You can run print(service.state) from the python SDK to retrieve the current state of the webservice."
}
"""


def _deploy_report(tmp_path: Path, cli, text: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "output.txt").write_text(text)
    report: dict[str, Any] = cli("check", str(tmp_path), "--format", "json").json()
    return report


def test_an_image_build_failure_is_the_environment_with_its_build_log(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = _deploy_report(tmp_path, cli, IMAGE_BUILD)["findings"][0]
    assert first["rule_id"] == "environment-build-failure"
    assert "logs/cb9u/rawtext.log" in first["fix"] and "docker build" in first["fix"]


def test_a_deployment_timeout_says_how_to_tell_slow_start_from_crash(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = _deploy_report(tmp_path, cli, TIMED_OUT)["findings"][0]
    assert first["rule_id"] == "deploy-failed" and first["values"]["code"] == "DeploymentTimedOut"
    assert "print(service.get_logs())" in first["fix"] and "`init()` loads the model" in first["fix"]

# https://github.com/SeldonIO/MLServer/issues/486 : `mlserver start .` doubled the relative model uri
MLSERVER_URI = "mlserver.errors.InvalidModelURI: Invalid URI specified for model iris1 (iris1/1/iris1/1)\n"


def test_mlserver_invalid_uri_is_the_model_path_with_the_relative_start_explained() -> None:
    first = _first(logs=MLSERVER_URI)
    assert first.rule_id == "model-not-found" and first.values["server"] == "mlserver"
    assert "`iris1/1/iris1/1`" in first.cause
    assert "mlserver start $PWD" in first.fix and "AZUREML_MODEL_DIR" not in first.fix
