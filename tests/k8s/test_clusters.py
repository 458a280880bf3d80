"""Several clusters at once: `--context a,b` and `--all-contexts` run the same check on each kubeconfig context in
parallel, one summary with a section per cluster; a cluster that does not answer is a line, not a failed run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


def _kubeconfig(path: Path, servers: dict[str, str]) -> Path:
    """A kubeconfig with one context per named server URL (namespace ml-prod)."""
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
              "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
              "users": [{"name": "mldoctor", "user": {"token": "mock-token-not-a-secret"}}],
              "contexts": [{"name": n, "context": {"cluster": n, "user": "mldoctor", "namespace": "ml-prod"}}
                           for n in servers],
              "current-context": next(iter(servers))}
    path.write_text(yaml.safe_dump(config))
    return path


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doctor", "check", "k8s:ml-prod/deployment/scorer", *args],
                          capture_output=True, text=True, timeout=300)


def test_contexts_in_parallel_with_one_unreachable(k8s_mock: Any, tmp_path: Path) -> None:
    prod, staging = k8s_mock("oom-killed"), k8s_mock("healthy")
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", {"prod": prod.server.url, "staging": staging.server.url,
                                                        "dead": _closed_port()})
    done = _check("--kubeconfig", str(kubeconfig), "--context", "prod,staging,dead", "--format", "json")
    assert done.returncode == 1, done.stderr  # the failing cluster decides; the dead one does not sink the run
    reports = {r["target"]["name"]: r for r in json.loads(done.stdout)["reports"]}
    assert set(reports) == {"prod:ml-prod/deployment/scorer", "staging:ml-prod/deployment/scorer"}
    assert reports["prod:ml-prod/deployment/scorer"]["findings"][0]["rule_id"] == "oom-killed"
    assert reports["staging:ml-prod/deployment/scorer"]["status"] == "healthy"
    notes = [n for r in reports.values() for n in r["notes"] if n.startswith("cluster dead: not checked")]
    assert len(notes) == 1 and "cannot reach" in notes[0]
    assert not prod.server.writes() and not staging.server.writes()


def test_all_contexts_summary_has_a_line_per_cluster(k8s_mock: Any, tmp_path: Path) -> None:
    prod, staging = k8s_mock("oom-killed"), k8s_mock("healthy")
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", {"prod": prod.server.url, "staging": staging.server.url,
                                                        "dead": _closed_port()})
    done = _check("--kubeconfig", str(kubeconfig), "--all-contexts", "--no-color")
    summary = done.stdout.split("\n\n")[0]
    assert "prod:ml-prod/deployment/scorer" in summary and "staging:ml-prod/deployment/scorer" in summary
    assert "cluster dead: not checked" in done.stdout
    assert done.stdout.count("oom-killed") >= 2  # in the summary row and in the prod section


def test_no_cluster_answers_exits_3(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", {"a": _closed_port(), "b": _closed_port()})
    done = _check("--kubeconfig", str(kubeconfig), "--all-contexts")
    assert done.returncode == 3 and "no cluster answered" in done.stderr
