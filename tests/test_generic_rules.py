"""The generic workload rules with every built-in rule loaded: the specific diagnosis wins, the safety net catches
what nothing names, and a failing service is never healthy.

Each rule's own examples (tests/test_rule_examples.py) run it alone; these run the whole rule set, where
precedence (`suppresses:`, `fallback:`) decides what the user reads first. Texts are real (cited) unless marked
GENERATED.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from doctor.bundle import read_bundle_dir
from doctor.evidence import ContainerState, Event, Evidence, LogSource, Target
from doctor.findings import Report
from doctor.rules.engine import diagnose
from doctor.rules.loader import load_rules
from doctor.rules.safety import TAIL_LINES, log_tails

RULES = load_rules([])


def _run(ev: Evidence) -> Report:
    return diagnose(ev, RULES)


def _ids(report: Report) -> list[str]:
    return [f.rule_id for f in report.findings]


def _check(report: Report, rule_id: str) -> str:
    return next(f"{c.result}: {c.reason}" for c in report.checks if c.rule_id == rule_id)


def _bundle(root: Path, files: dict[str, Any]) -> Evidence:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return read_bundle_dir(root, "bundle")


def _list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {"resourceVersion": ""}}


# A pod whose init container cannot start (k-init-container-command-typo: HolmesGPT's recorded describe, as JSON)
INIT_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "logging-agent", "namespace": "default"},
    "spec": {"restartPolicy": "Always",
             "initContainers": [{"name": "downloader", "image": "busybox:1.28",
                                 "command": ["wge", "-O", "/work-dir/index.html", "https://home.robusta.dev"]}],
             "containers": [{"name": "exporter", "image": "nginx"}]},
    "status": {"phase": "Pending",
               "initContainerStatuses": [{
                   "name": "downloader", "ready": False, "restartCount": 6, "image": "busybox:1.28",
                   "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                   "lastState": {"terminated": {
                       "exitCode": 128, "reason": "StartError",
                       "message": 'failed to create containerd task: failed to create shim task: OCI runtime create failed: '
                                  'runc create failed: unable to start container process: exec: "wge": executable file not '
                                  'found in $PATH: unknown'}}}],
               "containerStatuses": [{"name": "exporter", "ready": False, "restartCount": 0,
                                      "state": {"waiting": {"reason": "PodInitializing"}}}]}}


def test_init_container_failure_is_first_and_hides_the_crash_loop(tmp_path: Path) -> None:
    """The init container's CrashLoopBackOff is diagnosed as the init container's failure, not a crash loop."""
    report = _run(_bundle(tmp_path, {"k8s/pods.json": _list(INIT_POD)}))
    assert _ids(report) == ["init-container-failure"]
    first = report.findings[0]
    assert "`wge`" in first.fix and "spec.initContainers[].command" in first.fix
    assert _check(report, "crash-loop").startswith("skipped: suppressed: init-container-failure")
    assert _check(report, "unexplained-failure").startswith("skipped: suppressed")
    assert any("init container logging-agent/downloader" in e.excerpt and 'exec: \\"wge\\"' not in e.excerpt
               and '"wge": executable file not found' in e.excerpt for e in first.evidence)


def test_volume_claim_pending_beats_the_scheduler_message(tmp_path: Path) -> None:
    """'unbound immediate PersistentVolumeClaims' is a volume problem, not a capacity one (kubernetes#81714)."""
    ev = _bundle(tmp_path, {
        "k8s/events.json": _list(
            {"involvedObject": {"kind": "Pod", "name": "prometheus-0"}, "reason": "FailedScheduling", "type": "Warning",
             "count": 279, "message": "pod has unbound immediate PersistentVolumeClaims"},
            {"involvedObject": {"kind": "PersistentVolumeClaim", "name": "prometheus-data-prometheus-0"},
             "reason": "ProvisioningFailed", "type": "Warning", "count": 30,
             "message": 'storageclass.storage.k8s.io "standard" not found'}),
        "k8s/pvcs.json": _list({"metadata": {"name": "prometheus-data-prometheus-0"},
                                "spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "16Gi"}}},
                                "status": {"phase": "Pending"}}),
    })
    report = _run(ev)
    assert _ids(report)[0] == "volume-mount-failure"
    assert "StorageClass `standard`" in report.findings[0].fix
    assert "unexplained-failure" not in _ids(report)


def test_version_skew_wins_over_missing_module(tmp_path: Path) -> None:
    """A private scikit-learn module missing while unpickling is a version skew (a-v1-aci-sklearn-ridge-pickle-skew)."""
    line = ("File \"/azureml-envs/azureml_3921e717c180127e72729a5bd9ba1fe6/lib/python3.7/pickle.py\", line 1426, in "
            "find_class __import__(module, level=0) ModuleNotFoundError: No module named 'sklearn.linear_model._ridge'\n")
    report = _run(_bundle(tmp_path, {"docker/scorer/logs.txt": line}))
    assert _ids(report) == ["package-version-skew"]  # missing-python-module: clear or suppressed, never beside it
    assert "scikit-learn" in report.findings[0].fix


def test_environment_build_failure_wins_over_the_probe_it_causes(tmp_path: Path) -> None:
    """ResourceNotReady with a liveness 502 is the environment failing to install (a-v2-resourcenotready-…-python37)."""
    logs = ("HttpResponseError: (None) ResourceNotReady: User container has crashed or terminated: Liveness probe failed: "
            "HTTP probe failed with statuscode: 502.\nPip subprocess error:\n"
            "ERROR: Package 'setuptools' requires a different Python: 3.7.13 not in '>=3.8'\n")
    report = _run(_bundle(tmp_path, {"docker/scorer/logs.txt": logs}))
    assert _ids(report) == ["environment-build-failure"]
    assert "python=3.8" in report.findings[0].fix


def test_safety_net_catches_a_warning_event_no_rule_names(tmp_path: Path) -> None:
    """Only a FailedCreatePodSandBox event (GENERATED wording): failing, with the event quoted, never healthy."""
    ev = _bundle(tmp_path, {"k8s/events.json": _list(
        {"involvedObject": {"kind": "Pod", "name": "scorer-1"}, "reason": "FailedCreatePodSandBox", "type": "Warning",
         "firstTimestamp": None, "lastTimestamp": None, "count": 4,
         "message": "Failed to create pod sandbox: GENERATED network plugin error"})})
    report = _run(ev)
    assert report.status == "failing" and _ids(report) == ["unexplained-failure"]
    assert "FailedCreatePodSandBox Pod/scorer-1" in report.findings[0].cause


def test_safety_net_gives_way_to_any_specific_rule_even_a_users_own(tmp_path: Path) -> None:
    """A user's rule that names the failure hides the safety net without listing it in `suppresses:`."""
    rule = tmp_path / "rules" / "acme.yaml"
    rule.parent.mkdir()
    rule.write_text("id: acme-sandbox\ntitle: sandbox\nseverity: error\ncause: c\nfix: f\n"
                    "when: {event: {reason: '^FailedCreatePodSandBox$'}}\n")
    ev = Evidence(Target("bundle", "b"), events=[Event("k8s/events.json", "Pod", "scorer-1", "FailedCreatePodSandBox",
                                                       "Failed to create pod sandbox", "Warning")])
    report = diagnose(ev, load_rules([rule]))
    assert _ids(report) == ["acme-sandbox"]
    assert _check(report, "unexplained-failure") == (
        "skipped: suppressed: acme-sandbox explains the same evidence more specifically")


def test_a_stopped_container_is_container_exited_not_the_net() -> None:
    """A Docker container exited 2 with no restart policy: container-exited, which hides the safety net."""
    ev = Evidence(Target("docker", "scorer"),
                  states=[ContainerState("docker/scorer/inspect.json", "scorer", status="exited", exit_code=2,
                                         restart_policy="no")])
    report = _run(ev)
    assert _ids(report) == ["container-exited"]
    assert report.findings[0].values["exit_code"] == 2
    assert _check(report, "unexplained-failure").startswith("skipped: suppressed: container-exited")


def test_job_at_backoff_limit_quotes_the_last_log_lines(tmp_path: Path) -> None:
    """k-job-backofflimit-db-unreachable: the Job's event and its pod's log give the reason, prod-db:3333."""
    log = ("Java Network Exception:\n" + "All host(s) tried for db query failed (tried: prod-db:3333) - no available "
           "connection and the queue has reached its max size 256\n" * 4)
    ev = _bundle(tmp_path, {
        "k8s/events.json": _list({"involvedObject": {"kind": "Job", "name": "java-api-checker"},
                                  "reason": "BackoffLimitExceeded", "type": "Warning",
                                  "message": "Job has reached the specified backoff limit"}),
        "k8s/logs/java-api-checker-tgmn7/java-beans.log": log})
    report = _run(ev)
    assert _ids(report) == ["container-exited"]
    assert "prod-db:3333" in report.findings[0].fix and "backoff limit" in report.findings[0].cause


def test_healthy_control_with_probe_noise_stays_healthy(tmp_path: Path) -> None:
    """k-control-readiness-timeout-once-at-start: one Unhealthy event, then started: no finding, healthy."""
    ev = _bundle(tmp_path, {"k8s/events.json": _list(
        {"involvedObject": {"kind": "Pod", "name": "myapp-5798dd798c-t7dqs"}, "reason": "Started", "type": "Normal",
         "message": "Started container"},
        {"involvedObject": {"kind": "Pod", "name": "myapp-5798dd798c-t7dqs"}, "reason": "Unhealthy", "type": "Warning",
         "message": "Readiness probe failed: Get http://10.1.0.103:80/healthz/ready: net/http: request canceled "
                    "(Client.Timeout exceeded while awaiting headers)"})})
    report = _run(ev)
    assert (report.status, _ids(report)) == ("healthy", [])


def test_autoscaler_at_max_is_hidden_by_the_overload_it_causes() -> None:
    """With the 503 burst diagnosed (overload-503), the HPA at its maximum is not a second finding."""
    from tests.conftest import FIXTURES

    with_503 = read_bundle_dir(FIXTURES / "k8s" / "hpa-max-503", "hpa-max-503")
    report = _run(with_503)
    assert _ids(report)[0] == "overload-503"
    assert _check(report, "autoscaler-limited").startswith("skipped: suppressed: overload-503")
    alone = Evidence(Target("bundle", "b"), autoscalers=list(with_503.autoscalers))
    assert _ids(_run(alone)) == ["autoscaler-limited"]


def test_log_tails_read_the_end_of_a_large_log_previous_first() -> None:
    """The raw facts' last lines come from the end of the log (not its start), previous logs first."""
    big = b"".join(b"line %d\n" % i for i in range(200_000))
    current = LogSource.from_bytes("k8s/logs/p/c.log", "p/c", b"started\nserving\n")
    previous = LogSource.from_bytes("k8s/logs/p/c.previous.log", "p/c", big, previous=True)
    ev = Evidence(Target("bundle", "b"), logs=[current, previous])
    tails = log_tails(ev)
    assert [t["source"] for t in tails] == ["k8s/logs/p/c.previous.log", "k8s/logs/p/c.log"]
    assert tails[0]["lines"] == [f"line {i}" for i in range(200_000 - TAIL_LINES, 200_000)]
    unseekable = LogSource("x.log", "x", lambda: io.BufferedReader(io.BytesIO(b"a\nb\n")))  # type: ignore[arg-type]
    assert log_tails(Evidence(Target("bundle", "b"), logs=[unseekable]))[0]["lines"] == ["a", "b"]


@pytest.mark.parametrize("rule_id", ["deploy-failed", "unexplained-failure", "container-exited", "rollout-stuck"])
def test_fallback_rules_are_marked(rule_id: str) -> None:
    """The four safety-net rules are fallbacks; the specific generic rules are not."""
    assert RULES.rules[rule_id].fallback
    assert not RULES.rules["volume-mount-failure"].fallback
