"""Workloads, autoscalers, PVCs and init containers: read the same from a bundle and from the live API.

The status parts are copied from public threads (cited beside each); the names, specs and the pod are
GENERATED around them (a pod with an init container in Init:CrashLoopBackOff, a claim pending on a class).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from doctor.bundle import read_bundle_dir
from doctor.collect.k8s import collect_k8s
from doctor.evidence import Evidence
from tests.k8smock.store import Store

# status from https://github.com/Deepomatic/dmake/issues/475 (the poster's "xxx" kept); spec GENERATED
DEPLOYMENT = yaml.safe_load("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: scorer, namespace: ml-prod, uid: d-1, generation: 1474}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: scorer}}
  template: {metadata: {labels: {app: scorer}}, spec: {containers: [{name: scorer, image: scorer:2}]}}
status:
  availableReplicas: 1
  conditions:
  - lastTransitionTime: "2021-01-20T02:04:24Z"
    lastUpdateTime: "2021-01-20T02:04:24Z"
    message: "Deployment has minimum availability."
    reason: "MinimumReplicasAvailable"
    status: "True"
    type: "Available"
  - lastTransitionTime: "2021-01-22T11:14:23Z"
    lastUpdateTime: "2021-01-22T11:14:23Z"
    message: 'ReplicaSet "xxx-gui-5cd74fc875" has timed out progressing.'
    reason: "ProgressDeadlineExceeded"
    status: "False"
    type: "Progressing"
  observedGeneration: 1474
  readyReplicas: 1
  replicas: 2
  unavailableReplicas: 1
  updatedReplicas: 1
""")

# spec and status.conditions from https://github.com/k3s-io/k3s/issues/8287 (an excerpt: the thread's text stops
# after the conditions); currentReplicas/desiredReplicas from the same issue's `kubectl get hpa` row (REPLICAS 1)
HPA = yaml.safe_load("""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: my-cloud-owncloud, namespace: ml-prod}
spec:
  maxReplicas: 3
  metrics:
  - resource:
      name: cpu
      target:
        averageUtilization: 80
        type: Utilization
    type: Resource
  minReplicas: 1
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: scorer
status:
  conditions:
  - lastTransitionTime: "2023-08-23T12:45:26Z"
    message: the HPA controller was able to get the target's current scale
    reason: SucceededGetScale
    status: "True"
    type: AbleToScale
  - lastTransitionTime: "2023-08-23T12:45:26Z"
    message: 'the HPA was unable to compute the replica count: failed to get cpu utilization:
      missing request for cpu in container owncloud of Pod my-cloud-owncloud-5cdb678c48-8bgbm'
    reason: FailedGetResourceMetric
    status: "False"
    type: ScalingActive
  currentReplicas: 1
  desiredReplicas: 1
""")

# GENERATED: a claim pending on a StorageClass that does not exist, and a pod mounting it whose init container loops
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
       "metadata": {"name": "model-store", "namespace": "ml-prod"},
       "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                "resources": {"requests": {"storage": "20Gi"}}},
       "status": {"phase": "Pending"}}
POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "scorer-5cd74fc875-abcde", "namespace": "ml-prod", "labels": {"app": "scorer"},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": "scorer-5cd74fc875", "uid": "rs-1",
                                         "controller": True}]},
       "spec": {"restartPolicy": "Always",
                "initContainers": [{"name": "storage-initializer", "image": "kserve/storage-initializer:v0.10.0"}],
                "containers": [{"name": "scorer", "image": "scorer:2"}],
                "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "model-store"}}]},
       "status": {"phase": "Pending",
                  "initContainerStatuses": [{
                      "name": "storage-initializer", "ready": False, "restartCount": 5,
                      "state": {"waiting": {"reason": "CrashLoopBackOff",
                                            "message": "back-off 2m40s restarting failed container"}},
                      "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                   "message": "RuntimeError: Failed to fetch model. No model found in gs://bucket/model."}}}],
                  "containerStatuses": [{"name": "scorer", "ready": False, "restartCount": 0,
                                         "state": {"waiting": {"reason": "PodInitializing"}}}]}}


def _check(ev: Evidence) -> None:
    (workload,) = [w for w in ev.workloads if w.kind == "Deployment"]
    assert (workload.name, workload.desired, workload.available, workload.unavailable) == ("scorer", 2, 1, 1)
    progressing = next(c for c in workload.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")
    assert progressing.message == 'ReplicaSet "xxx-gui-5cd74fc875" has timed out progressing.'
    (hpa,) = ev.autoscalers
    assert (hpa.target_name, hpa.min_replicas, hpa.max_replicas, hpa.current_replicas) == ("scorer", 1, 3, 1)
    assert hpa.metrics == ("cpu 80%",) and not hpa.at_max
    active = hpa.as_dict()["conditions"]["ScalingActive"]
    assert active["status"] == "False" and "missing request for cpu in container owncloud" in active["message"]
    (pvc,) = ev.pvcs
    assert (pvc.name, pvc.phase, pvc.storage_class, pvc.requested_bytes) == ("model-store", "Pending", "fast-ssd", 20 * 2**30)
    init, main = ev.states
    assert (init.init, init.container, init.reason, init.restart_count, init.last_exit_code) == (
        True, "storage-initializer", "CrashLoopBackOff", 5, 1)
    assert init.last_message and init.last_message.startswith("RuntimeError: Failed to fetch model.")
    assert (main.init, main.reason, main.owner, main.restart_policy) == (False, "PodInitializing", "ReplicaSet/scorer-5cd74fc875", "Always")


def _kubectl_list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})


def test_bundle_reads_workloads_autoscalers_claims_and_init_containers(tmp_path: Path) -> None:
    """k8s/deployments.json, hpa.json, pvcs.json and pods.json's initContainerStatuses become evidence records."""
    (tmp_path / "k8s").mkdir()
    for stem, items in (("deployments", [DEPLOYMENT]), ("hpa", [HPA]), ("pvcs", [PVC]), ("pods", [POD])):
        (tmp_path / "k8s" / f"{stem}.json").write_text(_kubectl_list(items))
    _check(read_bundle_dir(tmp_path, "bundle"))


def _scorer_store() -> Store:
    """The scorer Deployment, its ReplicaSet, pod, HPA and mounted PVC, as the mock API server serves them."""
    store = Store()
    store.add("deployments", json.loads(json.dumps(DEPLOYMENT)))
    store.add("replicasets", {"metadata": {"name": "scorer-5cd74fc875", "namespace": "ml-prod", "uid": "rs-1",
                                           "labels": {"app": "scorer"},
                                           "ownerReferences": [{"kind": "Deployment", "name": "scorer", "uid": "d-1",
                                                                "controller": True}]},
                              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "scorer"}}}, "status": {}})
    store.add("pods", json.loads(json.dumps(POD)))
    store.add("horizontalpodautoscalers", json.loads(json.dumps(HPA)))
    store.add("persistentvolumeclaims", json.loads(json.dumps(PVC)))
    return store


def test_live_collector_reads_the_claims_the_pods_mount(k8s_mock: Any) -> None:
    """The live check lists PVCs (the pods mount one), with the same records as the bundle, GETs only."""
    cluster = k8s_mock(_scorer_store())
    ev = collect_k8s("k8s:ml-prod/deployment/scorer", kubeconfig=str(cluster.kubeconfig))
    assert {r.method for r in cluster.server.requests} == {"GET"}
    assert cluster.server.count("persistentvolumeclaims") == 1
    ev.workloads = [w for w in ev.workloads if w.kind == "Deployment"]
    _check(ev)


def test_live_job_target_reads_the_job_and_its_failed_pod(k8s_mock: Any) -> None:
    """`k8s:NS/job/NAME`: the Job (Failed condition) and its pod's exit; only GETs the RBAC manifest grants."""
    from tests.k8s.test_rbac import granted

    job = {"metadata": {"name": "java-api-checker", "namespace": "ml-prod", "uid": "job-1"},
           "spec": {"completions": 1, "backoffLimit": 1,
                    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "job-1"}}},
           "status": {"failed": 2, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                   "message": "Job has reached the specified backoff limit"}]}}
    pod = {"metadata": {"name": "java-api-checker-tgmn7", "namespace": "ml-prod",
                        "labels": {"batch.kubernetes.io/controller-uid": "job-1"},
                        "ownerReferences": [{"kind": "Job", "name": "java-api-checker", "uid": "job-1", "controller": True}]},
           "spec": {"restartPolicy": "Never", "containers": [{"name": "java-beans", "image": "busybox"}]},
           "status": {"phase": "Failed", "containerStatuses": [{"name": "java-beans", "ready": False, "restartCount": 0,
                                                                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}
    store = Store()
    store.add("jobs", job)
    store.add("pods", pod)
    store.add("events", {"metadata": {"name": "java-api-checker.1", "namespace": "ml-prod"},
                         "involvedObject": {"kind": "Job", "name": "java-api-checker", "namespace": "ml-prod"},
                         "reason": "BackoffLimitExceeded", "type": "Warning",
                         "message": "Job has reached the specified backoff limit"})
    cluster = k8s_mock(store)
    ev = collect_k8s("k8s:ml-prod/job/java-api-checker", kubeconfig=str(cluster.kubeconfig))
    (workload,) = ev.workloads
    assert (workload.kind, workload.failed, workload.conditions[0].reason) == ("Job", 2, "BackoffLimitExceeded")
    (state,) = ev.states
    assert (state.status, state.exit_code, state.restart_policy, state.owner) == (
        "terminated", 1, "Never", "Job/java-api-checker")
    assert [e.reason for e in ev.events] == ["BackoffLimitExceeded"]
    assert {r.method for r in cluster.server.requests} == {"GET"}
    assert ("batch", "jobs", "get") in granted("ClusterRole", "mldoctor-reader")
    assert ("batch", "jobs", "get") in granted("Role", "mldoctor-reader")
    assert ("", "persistentvolumeclaims", "list") in granted("Role", "mldoctor-reader")


def test_collected_bundle_holds_the_same_workloads_autoscalers_and_claims(k8s_mock: Any, tmp_path: Path) -> None:
    """`mldoctor collect` writes k8s/deployments.json, hpa.json and pvcs.json; reading them back gives the same records."""
    from doctor.collect.k8s import collect_k8s_bundle

    cluster = k8s_mock(_scorer_store())
    live = collect_k8s_bundle("k8s:ml-prod/deployment/scorer", tmp_path, kubeconfig=str(cluster.kubeconfig)).evidence()
    read = read_bundle_dir(tmp_path, "bundle")
    assert (tmp_path / "k8s" / "pvcs.json").is_file() and (tmp_path / "k8s" / "hpa.json").is_file()
    for records in ("workloads", "autoscalers", "pvcs"):
        assert [r.as_dict() for r in getattr(read, records)] == [r.as_dict() for r in getattr(live, records)], records
    assert [s.as_dict() for s in read.states] == [s.as_dict() for s in live.states]
