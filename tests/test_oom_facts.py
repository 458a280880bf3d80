"""What the OOM finding says is what the evidence says: the reason OOMKilled with the exit code the runtime recorded
(137 or not), and an OOM kill stays the root cause when probes fail too. Texts are real: tests/data/pasted/SOURCES.md
and the corpus cases' source.md say where each is from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
DATA = Path(__file__).parent / "data" / "pasted"


def _findings(target: Path) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(target), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_oomkilled_with_exit_code_1_is_not_called_exit_137() -> None:
    """kube-eventer#285: `Last State: Terminated, Reason: OOMKilled, Exit Code: 1`."""
    first = _findings(DATA / "kube-eventer-285-oomkilled-fragment.txt")[0]
    assert first["rule_id"] == "oom-killed"
    assert "137" not in first["title"] and "OOMKilled, exit code 1" in first["title"]
    assert "exit code 1, not 137" in first["cause"]


def test_oomkilled_with_exit_code_137_says_so() -> None:
    first = _findings(CORPUS / "k-oomkilled-300mi-limit")[0]
    assert first["rule_id"] == "oom-killed" and first["title"].endswith("(OOMKilled, exit code 137)")


def test_failing_liveness_probe_does_not_hide_the_oom_kill(tmp_path: Path) -> None:
    """A container whose Last State is OOMKilled (starburst-terraform#1) and liveness-probe kills (the kubelet rows of
    llm-d-inference-sim#45), pasted together: two real texts from two threads, assembled as a ticket would hold them.
    The OOM kill is the root cause; the probe failure is reported as its consequence, not in its place."""
    (tmp_path / "pasted").mkdir()
    shutil.copy(CORPUS / "k-oomkilled-300mi-limit" / "pasted" / "describe-pod-300Mi.txt", tmp_path / "pasted")
    rows = (CORPUS / "k-liveness-404-sim-has-no-health-route" / "pasted" / "describe-pod-events-excerpt.txt")
    (tmp_path / "pasted" / "events.txt").write_text("".join(rows.read_text().splitlines(keepends=True)[1:3]))
    findings = {f["rule_id"]: f for f in _findings(tmp_path)}
    assert list(findings)[0] == "oom-killed"
    assert findings["probe-failure"]["consequence_of"] == "oom-killed"
