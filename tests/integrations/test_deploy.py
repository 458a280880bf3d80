"""In-cluster deployment: the kustomize manifests render and validate; the image recipe is sound."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kustomize"


def _rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("LOUD SKIP: kubectl not installed (apt-get install kubernetes-client)")
    proc = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(KUSTOMIZE)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def test_kustomize_renders_cronjob_under_readonly_rbac() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _rendered()}
    job = docs[("CronJob", "mldoctor")]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["serviceAccountName"] == "mldoctor" and ("ServiceAccount", "mldoctor") in docs
    script = job["containers"][0]["args"][0]
    assert "--format json" in script and "--format prometheus" in script
    assert job["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    for kind in ("ClusterRole", "Role"):
        for rule in docs[(kind, "mldoctor-reader")]["rules"]:
            assert set(rule["verbs"]) <= {"get", "list", "watch"} and "secrets" not in rule["resources"]


def test_manifests_validate_against_kubernetes_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="LOUD SKIP: pip install kubernetes-validate")
    for doc in _rendered():
        kv.validate(doc, "1.30", strict=True)


def test_dockerfile_installs_the_package_as_non_root() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    assert "pip install ." in text and "USER 10001" in text and 'ENTRYPOINT ["mldoctor"]' in text
    for copied in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "doctor", "rules"):  # what the build reads
        assert (ROOT / copied).exists() and copied in text, copied
