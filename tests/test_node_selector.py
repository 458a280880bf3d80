"""The label a pending pod selects reaches the unschedulable finding: from the pod's own `Node-Selectors:` (describe)
or `spec.nodeSelector`, and from a pasted `kubectl get nodes -l KEY=VALUE` that found no node. Texts are real (the
corpus cases' source.md say where each is from) unless a test says it is generated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from doctor.collect.node_query import read_node_queries
from doctor.collect.pasted import read_file
from doctor.evidence import Evidence, Target

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "fixtures" / "corpus"


def _read(path: Path) -> Evidence:
    evidence = Evidence(Target("bundle", "test"))
    read_file(path, f"pasted/{path.name}", "pasted", evidence)
    return evidence


@pytest.mark.parametrize("case, selector", [
    ("k-crashloop-oomkilled-100mi", {"kubernetes.io/arch": "amd64"}),
    ("k-init-container-command-typo", {}),  # `Node-Selectors: <none>`
])
def test_describe_node_selectors(case: str, selector: dict[str, str]) -> None:
    states = _read(CORPUS / case / "pasted" / "kubectl-describe-pod.txt").states
    assert states and all(s.node_selector == selector for s in states)


def test_pasted_node_query_that_found_none() -> None:
    path = CORPUS / "k-unschedulable-node-selector-no-label" / "pasted" / "get-node-by-label.txt"
    [fact] = [c for c in _read(path).configs if c.kind == "k8s-node-query"]
    assert fact.values["labels"] == {"node.kubernetes.io/instance-type": "controlpanel"}
    assert fact.values["nodes_found"] == 0


def test_node_query_that_found_nodes_generated() -> None:
    """Generated text in kubectl's layout: a query that lists nodes proves the label exists."""
    text = ("$ kubectl get nodes -l agentpool=gpupool\nNAME                STATUS   ROLES   AGE   VERSION\n"
            "aks-gpupool-0      Ready    agent   3d    v1.29.2\n\n$ kubectl get pods -l app=scorer\n")
    [fact] = read_node_queries(text, "paste")
    assert (fact.values["selector"], fact.values["nodes_found"]) == ("agentpool=gpupool", 1)


def test_unschedulable_fix_names_the_missing_label() -> None:
    proc = subprocess.run([sys.executable, "-m", "doctor", "check", str(CORPUS / "k-unschedulable-node-selector-no-label"),
                           "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    finding = json.loads(proc.stdout)["findings"][0]
    assert finding["rule_id"] == "unschedulable"
    assert "kubectl label node NODE node.kubernetes.io/instance-type=controlpanel" in finding["fix"]
    assert "no node carries `node.kubernetes.io/instance-type=controlpanel`" in finding["cause"]
    assert "add nodes" not in finding["fix"].lower()
