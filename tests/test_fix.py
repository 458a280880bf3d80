"""`mldoctor fix`: patches of the user's own files in each config dialect that apply cleanly (`patch -p1`,
`kubectl patch --local`), that re-checking confirms, and SARIF fixes that validate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import FIXTURES, ROOT

SARIF_SCHEMA = ROOT / "tests/integrations/data/sarif-schema-2.1.0.json"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed; .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _patch_applies(diff: str, folder: Path) -> None:
    """The diff applies with `patch -p1` in `folder` (dry run first, then for real)."""
    for extra in (["--dry-run"], []):
        done = subprocess.run([_tool("patch"), "-p1", "--batch", *extra], input=diff, cwd=folder, text=True,
                              capture_output=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def _copy(src: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, folder / name)
    return folder / name


def test_v1_json_memory_patch_applies_and_the_preflight_agrees(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The boot loop preflight predicts at memoryInGB 0.5 is gone at the memory the fix writes."""
    monkeypatch.chdir(tmp_path)
    _copy(FIXTURES / "preflight/deploy_small.json", tmp_path, "deploymentconfig.json")
    args = ["--entry-script", str(FIXTURES / "preflight/score_big_init.py"), "--model-dir", str(FIXTURES / "preflight/model")]
    before = cli("preflight", *args, "--config", "deploymentconfig.json", "--format", "json").json()
    assert before["findings"][0]["rule_id"] == "worker-boot-loop"
    from doctor.config import read_config
    from doctor.evidence import Severity, Target
    from doctor.findings import Finding, Report
    from doctor.fix.plan import build

    found = before["findings"][0]
    report = Report(Target("preflight", "score"), [Finding(found["rule_id"], Severity.ERROR, found["title"], found["cause"],
                                                           found["fix"], values=found["values"])], [], [])
    plan = build([report], [("deploymentconfig.json", f) for f in read_config(Path("deploymentconfig.json"))], [])
    assert [c.key for p in plan.patches for c in p.changes] == ["memory_gb"]
    _patch_applies(plan.patches[0].diff(), tmp_path)
    patched = json.loads(Path("deploymentconfig.json").read_text())
    assert patched["containerResourceRequirements"]["memoryInGB"] == found["values"]["suggested_memory_gb"]
    after = cli("preflight", *args, "--config", "deploymentconfig.json", "--format", "json").json()
    assert "worker-boot-loop" not in [f["rule_id"] for f in after["findings"]], after["findings"]


def test_v1_json_replicas_patch_and_the_autoscaler_replay_agrees(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    bundle = FIXTURES / "bundles/traffic-overload-503"
    _copy(bundle / "config/deploymentconfig.json", tmp_path / "svc", "deploymentconfig.json")
    run = cli("fix", str(bundle), "--config", "svc/deploymentconfig.json")
    assert run.code == 0 and "# mldoctor fix: overload-503: replicas = ceil(" in run.out
    _patch_applies(run.out, tmp_path)
    access = str(bundle / "traffic/access.log")
    before = cli("simulate", "--traffic", access, "--config", str(bundle / "config/deploymentconfig.json"), "--format", "json").json()
    after = cli("simulate", "--traffic", access, "--config", "svc/deploymentconfig.json", "--format", "json").json()
    want = before["findings"][0]["values"]
    assert want["simulated_503"] > 0
    assert json.loads(Path("svc/deploymentconfig.json").read_text())["autoScaler"]["minReplicas"] == want["replicas_needed"]
    assert after["findings"][0]["values"]["simulated_503"] == 0  # the replayed traffic no longer overflows


def test_v2_yaml_probe_patch_adds_the_missing_block(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    _copy(FIXTURES / "preflight/deployment_fast.yml", tmp_path, "deployment.yml")
    run = cli("fix", str(FIXTURES / "k8s/probe-slow-load"), "--config", "deployment.yml")
    _patch_applies(run.out, tmp_path)
    data = yaml.safe_load(Path("deployment.yml").read_text())
    assert data["liveness_probe"]["initial_delay"] == 80 and data["request_settings"]["request_timeout_ms"] == 1000
    report = cli("check", str(FIXTURES / "k8s/probe-slow-load"), "--format", "json").json()
    probe = next(f for f in report["findings"] if f["rule_id"] == "probe-failure")["values"]
    from doctor.calc import probe_budget

    new_budget = probe_budget(80, probe["failure_threshold"], probe["period"])["seconds"]
    assert probe["budget_seconds"] < probe["observed_seconds"] <= new_budget  # the probe calculator agrees with itself


def test_kubernetes_manifest_and_kubectl_patch(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    deployment = json.loads((FIXTURES / "k8s/oom-killed/k8s/deployments.json").read_text())["items"][0]
    Path("deployment.yaml").write_text(yaml.safe_dump(deployment, sort_keys=False))
    run = cli("fix", str(FIXTURES / "k8s/oom-killed"), "--config", "deployment.yaml", "--write")
    assert run.code == 0 and Path("deployment.yaml.fixed").is_file()
    fixed = yaml.safe_load(Path("deployment.yaml.fixed").read_text())
    assert fixed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "2Gi"
    _patch_applies(run.out.split("kubectl patch")[0], tmp_path)
    assert Path("deployment.yaml").read_text() == Path("deployment.yaml.fixed").read_text()
    command = next(line for line in run.out.splitlines() if line.startswith("kubectl patch"))
    body = command.split(" -p ", 1)[1].strip("'")
    Path("original.yaml").write_text(yaml.safe_dump(deployment, sort_keys=False))
    done = subprocess.run([_tool("kubectl"), "patch", "--local", "-f", "original.yaml", "--type=strategic", "-p", body,
                           "-o", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    patched = json.loads(done.stdout)["spec"]["template"]["spec"]["containers"][0]
    assert patched["resources"]["limits"]["memory"] == "2Gi" and patched["name"] == "scorer"


def test_conda_environment_patch_removes_the_finding(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    bundle = FIXTURES / "bundles/missing-inference-server"
    _copy(bundle / "config/conda.yml", tmp_path, "conda.yml")
    run = cli("fix", str(bundle), "--config", "conda.yml")
    _patch_applies(run.out, tmp_path)
    env = yaml.safe_load(Path("conda.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "azureml-defaults>=1.44" in pip
    for name, source in (("before", bundle / "config/conda.yml"), ("after", Path("conda.yml"))):
        _copy(source, tmp_path / name / "config", "conda.yml")  # the environment file alone, as a preflight gate sees it
    found = {name: [f["rule_id"] for f in cli("check", str(tmp_path / name), "--format", "json").json()["findings"]]
             for name in ("before", "after")}
    assert "missing-inference-server" in found["before"] and "missing-inference-server" not in found["after"]


def test_a_fix_that_is_not_a_setting_says_so(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("fix", str(FIXTURES / "bundles/docker-init-failure"), "--format", "json")
    plan = json.loads(run.out)
    assert plan["patches"] == [] and plan["not_mechanical"][0]["rule_id"] == "init-failure"


def test_sarif_results_carry_the_fix(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    bundle = FIXTURES / "bundles/traffic-overload-503"
    _copy(bundle / "config/deploymentconfig.json", tmp_path, "deploymentconfig.json")
    sarif = cli("check", str(bundle), "--config", "deploymentconfig.json", "--format", "sarif").json()
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "overload-503")
    change = result["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "deploymentconfig.json"
    replaced = change["replacements"][0]
    assert "7" in replaced["insertedContent"]["text"] and replaced["deletedRegion"]["startLine"] >= 1


def test_only_the_changes_a_kubectl_command_writes_are_said_to_be_carried() -> None:
    from doctor.commands.fix import render_text
    from doctor.fix.plan import FixPlan
    from doctor.fix.remedies import Change

    memory = Change("memory_gb", 2.0, "oom-killed", "peak 1.6 GB against a 1 GB limit")
    replicas = Change("autoscale_min_replicas", 3, "overloaded-503", "503s at 2 replicas")
    plan = FixPlan(kubectl=[(memory, "kubectl patch deployment scorer -p '{}'")], carried=[memory],
                   unplaced=[(memory, "no deployment file given (--config FILE)"),
                             (replicas, "no deployment file given (--config FILE)")])
    lines = {line.split(" (", 1)[0]: line for line in render_text(plan, False).splitlines() if "not written" in line}
    assert lines["# not written to a file: oom-killed"].endswith("(the kubectl patch above carries it)")
    assert "kubectl patch above" not in lines["# not written to a file: overloaded-503"]
