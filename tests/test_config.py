"""Service configuration understood by content: dialects, documented defaults, server/Flask checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctor.config import read_config, server_checks


def _read(tmp_path: Path, name: str, text: str) -> dict:  # type: ignore[type-arg]
    path = tmp_path / name
    path.write_text(text)
    facts = read_config(path, name)
    assert facts, f"{name} not recognised"
    return {"kind": facts[0].kind, "assumed": facts[0].assumed, **facts[0].values}


def test_v1_deploymentconfig_json_names_json_keys_and_assumes_defaults(tmp_path: Path) -> None:
    fact = _read(tmp_path, "deploymentconfig.json",
                 '{"computeType": "aks", "containerResourceRequirements": {"cpu": 0.5, "memoryInGB": 1.0}}')
    assert fact["kind"] == "azureml-v1" and fact["memory_limit_bytes"] == 1024**3
    assert fact["settings"]["memory_gb"] == "containerResourceRequirements.memoryInGB"
    assert fact["scoring_timeout_ms"] == 60000 and "scoring_timeout_ms" in fact["assumed"]
    assert fact["liveness_initial_delay"] == 310


def test_v1_sdk_parameters_in_yaml_name_sdk_parameters(tmp_path: Path) -> None:
    fact = _read(tmp_path, "deploy.yml", "memory_gb: 2\nautoscale_max_replicas: 4\n")
    assert fact["settings"]["memory_gb"] == "memory_gb="
    assert fact["autoscale_max_replicas"] == 4 and "autoscale_target_utilization" in fact["assumed"]


def test_v2_managed_yaml_model_and_defaults(tmp_path: Path) -> None:
    fact = _read(tmp_path, "blue.yml", "name: blue\nendpoint_name: credit\nmodel: azureml:credit-model:3\n"
                 "instance_type: Standard_DS3_v2\ninstance_count: 1\n")
    assert fact["kind"] == "azureml-v2-managed"
    assert (fact["model_name"], fact["model_version"]) == ("credit-model", "3")
    assert fact["request_timeout_ms"] == 5000 and "request_timeout_ms" in fact["assumed"]
    assert fact["settings"]["worker_timeout"] == "environment_variables.WORKER_TIMEOUT"


def test_conda_file_without_server_is_flagged(tmp_path: Path) -> None:
    fact = _read(tmp_path, "conda.yml", "name: s\ndependencies:\n  - python=3.10\n  - pip:\n      - joblib==1.3.2\n")
    assert fact["kind"] == "environment" and fact["has_inference_server"] is False


def test_requirements_with_current_server(tmp_path: Path) -> None:
    fact = _read(tmp_path, "requirements.txt", "azureml-inference-server-http==1.5.1\nflask==2.3.3\n")
    assert fact["has_inference_server"] and fact["version_problems"] == []


@pytest.mark.parametrize("text", [
    'models={"model1":{"1.0":{"marName":"model1.mar","batchSize":8,"maxBatchDelay":5,"minWorkers":2,"maxWorkers":2}}}\n',
    "inference_address=http://0.0.0.0:8080\nmanagement_address=http://0.0.0.0:8081\nmodel_store=/home/model-server/model-store\n",
])
def test_java_properties_are_not_a_requirements_file(text: str, tmp_path: Path) -> None:
    """TorchServe's config.properties (`key=value`; the first from pytorch/serve#2099, verbatim) is no pip requirements
    file: read as one it lacked the inference server, and `missing-inference-server` came first on a TorchServe
    failure (a confident wrong answer)."""
    path = tmp_path / "config.properties"
    path.write_text(text)
    assert not [f for f in read_config(path, path.name) if f.kind == "environment"]


def test_conda_specs_with_a_single_equals_are_still_an_environment(tmp_path: Path) -> None:
    fact = _read(tmp_path, "spec.txt", "numpy=1.21\nscikit-learn==1.2\nazureml-defaults>=1.44\n")
    assert fact["kind"] == "environment" and fact["has_inference_server"]


@pytest.mark.parametrize("packages, broken", [
    ({"flask": "==2.0.1", "azureml-defaults": "==1.43.0"}, True),
    ({"flask": ">=2", "azureml-inference-server-http": "~=0.6.1"}, True),
    ({"azureml-inference-server-http": "==0.4.10"}, True),
    ({"flask": "==2.2", "azureml-defaults": ">=1.44"}, False),
    ({"flask": "==1.1.4", "azureml-defaults": "==1.43.0"}, False),
])
def test_known_broken_server_flask_combinations(packages: dict[str, str], broken: bool) -> None:
    assert bool(server_checks(packages)["version_problems"]) is broken


def test_azureml_defaults_older_than_1_0_45() -> None:
    assert server_checks({"azureml-defaults": "==1.0.40"})["server_too_old"]
    assert not server_checks({"azureml-defaults": ">=1.0.45"})["server_too_old"]


def test_kubernetes_deployment_probe_env_and_setting_names() -> None:
    from doctor.config import from_k8s_object

    obj = {"kind": "Deployment", "metadata": {"name": "scorer"}, "spec": {"replicas": 2, "template": {"spec": {
        "containers": [{"name": "scorer", "resources": {"limits": {"memory": "2Gi"}},
                        "env": [{"name": "WORKER_TIMEOUT", "value": "120"}, {"name": "KEY", "valueFrom": {}}],
                        "livenessProbe": {"initialDelaySeconds": 10, "periodSeconds": 10}}]}}}}
    values = from_k8s_object(obj, "k8s/deployments.json")[0].values
    assert values["memory_limit_bytes"] == 2 * 1024**3
    assert values["environment_variables"] == {"WORKER_TIMEOUT": "120"}
    assert (values["liveness_initial_delay"], values["liveness_failure_threshold"]) == (10, 3)
    assert values["settings"]["liveness_initial_delay"] == "livenessProbe.initialDelaySeconds"


@pytest.mark.parametrize(("text", "kind", "uri", "server"), [
    ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: iris}\nspec:\n  predictor:\n"
     "    model:\n      modelFormat: {name: sklearn}\n      storageUri: gs://bucket/iris/model.joblib\n",
     "InferenceService", "gs://bucket/iris/model.joblib", "sklearn"),
    ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: xgb}\nspec:\n  predictor:\n"
     "    xgboost:\n      storageUri: s3://models/xgb/\n", "InferenceService", None, None),
    ("apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: s}\nspec:\n  predictors:\n"
     "  - graph:\n      name: router\n      implementation: RANDOM_ABTEST\n      children:\n      - name: a\n"
     "        implementation: XGBOOST_SERVER\n        modelUri: s3://m/a/model.bst\n", "SeldonDeployment",
     "s3://m/a/model.bst", "XGBOOST_SERVER"),
])
def test_a_serving_manifest_says_which_model_uri_names_a_file(tmp_path: Path, text: str, kind: str, uri: str | None,
                                                              server: str | None) -> None:
    """A SeldonDeployment or InferenceService kept under config/: its model URIs, and the first that names a file (a
    server given such a URI finds a folder where it looks for its file), with the implementation or format serving it."""
    path = tmp_path / "serving.yaml"
    path.write_text(text, encoding="utf-8")
    (fact,) = read_config(path)
    assert fact.kind == "serving-manifest" and fact.values["object_kind"] == kind
    assert (fact.values["file_uri"], fact.values["file_server"]) == (uri, server)
    assert fact.values["models"]


@pytest.mark.parametrize(("text", "module", "module_file", "deployments"), [
    ("# config.yaml\nhost: 127.0.0.1\nport: 8000\nimport_path: fail:app\n", "fail", "fail.py", []),  # ray-project/ray#33118
    ("applications:\n- name: app1\n  route_prefix: /\n  import_path: models.text.app\n  deployments:\n  - name: Model\n"
     "    num_replicas: 2\n", "models.text", "models/text.py", ["Model"]),
])
def test_a_ray_serve_config_names_the_module_of_its_import_path(tmp_path: Path, text: str, module: str, module_file: str,
                                                                deployments: list[str]) -> None:
    """Ray Serve's config (`serve deploy config.yaml`): the module `import_path` names (`module:attr` or `module.attr`),
    the file it implies and the deployments the config lists."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    (fact,) = read_config(path)
    assert fact.kind == "ray-serve-config"
    assert (fact.values["module"], fact.values["module_file"]) == (module, module_file)
    assert fact.values["apps"][0]["deployments"] == deployments


def test_host_networking_is_read_from_docker_inspect_and_pod_spec() -> None:
    """A container on the host's network (its loopback is the host's: a server bound to 127.0.0.1 is reachable from the
    host) is told from one with its own network: Docker's HostConfig.NetworkMode, a pod's spec.hostNetwork."""
    from doctor.convert import docker_state, k8s_pod_states

    inspect = {"Name": "/scorer", "State": {"Status": "running", "Running": True}, "HostConfig": {"NetworkMode": "host"}}
    assert docker_state(inspect, "i").host_network
    assert not docker_state({**inspect, "HostConfig": {"NetworkMode": "bridge"}}, "i").host_network
    pod = {"metadata": {"name": "p"}, "spec": {"hostNetwork": True, "containers": [{"name": "c"}]},
           "status": {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"running": {}}}]}}
    assert [s.host_network for s in k8s_pod_states(pod, "k")] == [True]
    pod["spec"].pop("hostNetwork")
    assert [s.host_network for s in k8s_pod_states(pod, "k")] == [False]
