"""`mldoctor check k8s:…` end to end over HTTP, and `mldoctor collect` → bundle → check giving the same findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8smock.plugin import SCENARIOS, MockCluster


def mldoctor(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "doctor", *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=Path(__file__).resolve().parents[2])


def check_json(target: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and parsed JSON report of `mldoctor check TARGET --format json`."""
    done = mldoctor("check", target, "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def first_error(report: dict[str, Any]) -> str | None:
    """The first finding at error level or above (findings come most severe first)."""
    return next((f["rule_id"] for f in report["findings"] if f["severity"] in ("error", "critical")), None)


def summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What must match between a live check and a check of its bundle: every finding whole (values, evidence, fix)."""
    return report["findings"]


def expected(cluster: MockCluster) -> dict[str, Any]:
    """The scenario's expected.yaml."""
    assert cluster.scenario is not None
    return dict(yaml.safe_load((cluster.scenario / "expected.yaml").read_text()))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_check_live_gives_the_expected_rule(k8s_mock: Any, scenario: str) -> None:
    """`mldoctor check k8s:… --format json` names the scenario's expected rule first (exit 1), or nothing (exit 0)."""
    cluster = k8s_mock(scenario)
    want = expected(cluster)
    code, report = check_json(want["target"], "--kubeconfig", str(cluster.kubeconfig))
    assert first_error(report) == want["first_error"]
    assert code == (1 if want["first_error"] else 0)
    assert not set(want.get("absent") or []) & {f["rule_id"] for f in report["findings"]}
    assert report["target"]["kind"] == "k8s" and not report["collector_errors"]
    assert not cluster.server.writes()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_collect_bundle_check_gives_the_same_findings(k8s_mock: Any, scenario: str, tmp_path: Path) -> None:
    """collect → bundle.tar.gz → check finds what the live check finds."""
    cluster = k8s_mock(scenario)
    target = expected(cluster)["target"]
    _, live = check_json(target, "--kubeconfig", str(cluster.kubeconfig))
    bundle = tmp_path / "bundle.tar.gz"
    done = mldoctor("collect", target, "--output", str(bundle), "--kubeconfig", str(cluster.kubeconfig))
    assert done.returncode == 0, done.stderr
    _, offline = check_json(str(bundle))
    assert summary(offline) == summary(live)
    assert not cluster.server.writes()


def test_api_server_down_exits_3(k8s_mock: Any) -> None:
    """An API server that does not answer: one clear line, exit 3."""
    cluster = k8s_mock("healthy")
    cluster.server.stop()
    done = mldoctor("check", "k8s:ml-prod/deployment/scorer", "--kubeconfig", str(cluster.kubeconfig))
    assert done.returncode == 3
    assert "cannot reach the Kubernetes API server" in done.stderr


def test_namespace_check_reports_every_deployment(k8s_mock: Any) -> None:
    """`mldoctor check k8s:ml-prod/*` gives one report per deployment."""
    from tests.k8smock.synth import scale_store

    cluster = k8s_mock(scale_store(deployments=4, pods_per_deployment=3, events_total=40, crashing_every=2))
    done = mldoctor("check", "k8s:ml-prod/*", "--kubeconfig", str(cluster.kubeconfig), "--format", "json")
    assert done.returncode == 1, done.stderr
    reports = json.loads(done.stdout)["reports"]
    assert len(reports) == 4
    assert [first_error(r) for r in reports] == [None, "init-failure", None, "init-failure"]
