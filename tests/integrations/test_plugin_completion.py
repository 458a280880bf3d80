"""`kubectl mldoctor` through kubectl's real plugin mechanism, and the shell completion scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from doctor.kubectl_plugin import translate  # noqa: E402
from tests.k8smock.plugin import k8s_mock  # noqa: E402,F401  (a fixture, used by name)

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
SCRIPTS = Path(sysconfig.get_path("scripts"))


def _kubectl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if not Path(KUBECTL).exists():
        pytest.skip("LOUD SKIP: kubectl not installed (apt-get install kubernetes-client)")
    if not (SCRIPTS / "kubectl-mldoctor").exists():
        pytest.skip(f"LOUD SKIP: kubectl-mldoctor console script not in {SCRIPTS} (pip install -e .)")
    path = f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PATH": path, **(env or {})})


@pytest.mark.parametrize(("argv", "expected"), [
    (["check", "deployment/scorer", "-n", "ml"], ["check", "k8s:ml/deployment/scorer", "-n", "ml"]),
    (["check", "-n", "ml", "--context", "prod", "deploy.apps/scorer"],
     ["check", "-n", "ml", "--context", "prod", "k8s:ml/deployment/scorer"]),
    (["check", "--namespace=ml", "po/scorer-1"], ["check", "--namespace=ml", "k8s:ml/pod/scorer-1"]),
    (["check", "svc/scorer", "--format", "json"], ["check", "k8s:service/scorer", "--format", "json"]),
    (["check", "docker:svc"], ["check", "docker:svc"]),
    (["check", "k8s:ml/*"], ["check", "k8s:ml/*"]),
    (["rules", "list"], ["rules", "list"]),
])
def test_translate_kubectl_arguments(argv: list[str], expected: list[str]) -> None:
    assert translate(argv) == expected


def test_bundle_path_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deployment" / "x").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert translate(["check", "deployment/x"]) == ["check", "deployment/x"]


def test_kubectl_lists_and_runs_the_plugin() -> None:
    listed = _kubectl("plugin", "list")
    assert "kubectl-mldoctor" in listed.stdout, listed.stdout + listed.stderr
    helped = _kubectl("mldoctor", "--help")
    assert helped.returncode == 0 and "Usage: kubectl mldoctor" in helped.stdout
    rules = _kubectl("mldoctor", "rules", "list")
    assert rules.returncode == 0 and "init-failure" in rules.stdout
    bundle = _kubectl("mldoctor", "check", str(ROOT / "fixtures" / "bundles" / "docker-init-failure"), "--format", "json")
    assert bundle.returncode == 1 and json.loads(bundle.stdout)["findings"][0]["rule_id"] == "init-failure"


def test_kubectl_mldoctor_check_deployment_in_namespace(k8s_mock: Any) -> None:  # noqa: F811
    cluster = k8s_mock("oom-killed")
    run = _kubectl("mldoctor", "check", "deployment/scorer", "-n", "ml-prod", "--kubeconfig", str(cluster.kubeconfig),
                   "--format", "json")
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["target"]["name"].endswith("ml-prod/deployment/scorer")
    assert report["findings"][0]["rule_id"] == "oom-killed"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(cli, shell: str) -> None:  # type: ignore[no-untyped-def]
    run = cli("completion", shell)
    assert run.code == 0 and "_MLDOCTOR_COMPLETE" in run.out
    assert {"bash": "complete -o nosort -F", "zsh": "#compdef mldoctor", "fish": "complete --no-files"}[shell] in run.out


def test_bash_completes_check() -> None:
    exe = SCRIPTS / "mldoctor"
    if not exe.exists():
        pytest.skip(f"LOUD SKIP: mldoctor console script not in {SCRIPTS} (pip install -e .)")
    env = {**os.environ, "_MLDOCTOR_COMPLETE": "bash_complete", "COMP_WORDS": "mldoctor ch", "COMP_CWORD": "1"}
    out = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=60, check=False).stdout
    assert "plain,check" in out.splitlines()
