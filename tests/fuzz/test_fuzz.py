"""Property-based fuzzing of everything that reads untrusted input: rule files, bundle files, logs,
config files. Every input must end in a result or one clear DoctorError (exit 2) — never another
exception, never a hang: each example has a deadline (Hypothesis fails one slower than DEADLINE seconds, and one
that never ends kills the run after HANG seconds with every thread's traceback, so a hang fails CI instead of
stalling it). Inputs that once failed are kept as explicit examples (regression corpus)."""

from __future__ import annotations

import faulthandler
import functools
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from doctor.errors import DoctorError

EXAMPLES = int(os.environ.get("MLDOCTOR_FUZZ_EXAMPLES", "100"))
DEADLINE = float(os.environ.get("MLDOCTOR_FUZZ_DEADLINE", "20"))  # seconds: generous for a loaded 2-core machine
HANG = 5 * DEADLINE
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=DEADLINE), suppress_health_check=list(HealthCheck))


def bounded(test: Callable[..., None]) -> Callable[..., None]:
    """Each call of `test` ends within HANG seconds, or the process dies with the tracebacks (never a silent hang)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        faulthandler.dump_traceback_later(HANG, exit=True)
        try:
            test(*args, **kwargs)
        finally:
            faulthandler.cancel_dump_traceback_later()

    return run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=40)
k8s_keys = st.sampled_from(["metadata", "spec", "status", "items", "containers", "containerStatuses", "state",
                            "lastState", "resources", "limits", "memory", "reason", "involvedObject", "count",
                            "allocatable", "name", "exitCode", "restartCount", "firstTimestamp"])
k8s_like = st.recursive(
    st.none() | st.integers() | st.text(max_size=20) | st.sampled_from(["512Mi", "1Gi", "500m", "2", "bad", "1e3Ki"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(k8s_keys, inner, max_size=6), max_leaves=50)


def _bundle(tmp: Path, rel: str, data: bytes) -> Path:
    root = tmp / "bundle"
    shutil.rmtree(root, ignore_errors=True)
    path = root / rel
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    (root / "k8s").mkdir(exist_ok=True)
    return root


def _check(root: Path) -> None:
    from doctor.bundle import open_bundle
    from doctor.rules.engine import diagnose
    from doctor.rules.loader import load_rules

    try:
        with open_bundle(root) as evidence:
            diagnose(evidence, RULES)
    except DoctorError:
        pass


from doctor.rules.loader import load_rules as _load  # noqa: E402

RULES = _load([])


@FUZZ
@given(obj=k8s_like, name=st.sampled_from(["k8s/pods.json", "k8s/events.json", "k8s/nodes.json", "k8s/hpa.json",
                                            "k8s/deployments.json", "docker/svc/inspect.json"]))
@example(obj={"items": [{"status": {"containerStatuses": [{"state": None}]}}]}, name="k8s/pods.json")
@example(obj={"items": [{"spec": {"containers": [{"resources": {"limits": {"memory": "1e3Ki"}}}]}}]}, name="k8s/pods.json")
@example(obj=[{"State": "x", "HostConfig": 5}], name="docker/svc/inspect.json")
@bounded
def test_kubectl_and_docker_objects(tmp_path_factory, obj, name) -> None:  # type: ignore[no-untyped-def]
    _check(_bundle(tmp_path_factory.mktemp("f"), name, json.dumps(obj).encode()))


@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["k8s/pods.json", "k8s/events.yaml", "docker/svc/events.json",
                                                             "manifest.yaml", "config/deploymentconfig.json", "config/env.yml"]))
@example(data=b"\xff\xfe{", name="k8s/pods.json")
@example(data=b"!!python/object/apply:os.system ['id']", name="k8s/events.yaml")
@bounded
def test_raw_bytes_in_object_files(tmp_path_factory, data, name) -> None:  # type: ignore[no-untyped-def]
    _check(_bundle(tmp_path_factory.mktemp("f"), name, data))


@FUZZ
@given(lines=st.lists(st.one_of(st.binary(max_size=300), st.sampled_from([
    b"2026-11-25 15:40:04,920 I [12] gunicorn.error - Booting worker with pid: 12",
    b"2026-11-25T16:51:11.131684691Z 2026-11-25 16:51:11,131 W [1] gunicorn.error - Worker with pid 7 was terminated due to signal 9",
    b"[2023-11-23 14:43:47 +0000] [1] [ERROR] Worker (pid:7) exited with code 3",
    b'127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 503 19 "-" "curl/7.88.1"',
    b"9999-99-99T99:99:99Z broken time", b"[31/Feb/2026:25:61:61 +0000]", b"\r", b"\x00" * 50])), max_size=60))
@example(lines=[b"2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score 200 1.2.3ms 19",
                b'127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /sc\xffore HTTP/1.1" 200 19 "-" "curl/7.88.1"'])
@bounded
def test_logs_any_bytes(tmp_path_factory, lines) -> None:  # type: ignore[no-untyped-def]
    _check(_bundle(tmp_path_factory.mktemp("f"), "docker/svc/logs.txt", b"\n".join(lines)))
    _check(_bundle(tmp_path_factory.mktemp("f"), "traffic/access.log", b"\n".join(lines)))


@FUZZ
@given(rule=st.dictionaries(st.sampled_from(["id", "title", "severity", "cause", "fix", "when", "values", "examples",
                                             "suppresses", "priority"]), json_values | k8s_like, max_size=8))
@example(rule={"id": "x", "title": "t", "severity": "error", "cause": "c", "fix": "{{", "when": {"log": {"pattern": "a"}}})
@example(rule={"id": "x", "title": "t", "severity": "error", "cause": "c", "fix": "f", "when": {"state": {"expr": "c.("}}})
@bounded
def test_rule_loader(tmp_path_factory, rule) -> None:  # type: ignore[no-untyped-def]
    from doctor.rules.loader import load_file

    path = tmp_path_factory.mktemp("r") / "rule.yaml"
    path.write_text(json.dumps(rule))
    try:
        load_file(path)
    except DoctorError as err:
        assert str(path) in str(err)


@FUZZ
@given(text=st.text(max_size=800))
@example(text="dependencies:\n  - pip:\n    - [nested]\n")
@example(text="def init(:\n")
@example(text="computeType: aks\ncontainerResourceRequirements: 5\n")
@bounded
def test_config_reader(tmp_path_factory, text) -> None:  # type: ignore[no-untyped-def]
    from doctor.config import read_config

    path = tmp_path_factory.mktemp("c") / "config"
    path.write_text(text)
    try:
        read_config(path)
    except DoctorError:
        pass
