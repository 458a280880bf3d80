"""The bundles recorded from real servers (tests/servers/record.py) give, offline, the first finding expected.yaml
names, with its key facts; the healthy controls stay healthy. No Docker engine needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Run

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "servers"
CASES = sorted(p.parent for p in ROOT.glob("*/expected.yaml"))


def test_there_are_recorded_servers() -> None:
    stacks = {p.name.split("-", 1)[0] for p in CASES}
    assert {"azmlinfsrv", "text"} <= stacks and len(CASES) >= 6


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_recorded_bundle(case: Path, cli: Any) -> None:
    want = yaml.safe_load((case / "expected.yaml").read_text())
    run: Run = cli("check", str(case), "--format", "json")
    report = run.json()
    stack = want.get("stack", case.name.split("-", 1)[0])
    if "stack" in want or not case.name.startswith("text-"):
        assert report["target"]["stack"]["name"] == stack, report["target"]
    if not want["failing"]:
        assert run.code in (0, 3) and report["status"] in ("healthy", "unknown"), report["findings"][:1]
        assert not [f for f in report["findings"] if f["rule_id"] in want.get("not_first", [])]
        return
    assert run.code == 1 and report["status"] == "failing"
    first = report["findings"][0]
    assert first["rule_id"] == want["first"], [f["rule_id"] for f in report["findings"]]
    assert {k: first["values"].get(k) for k in want.get("values", {})} == want.get("values", {})
    text = (first["title"] + " " + first["cause"]).lower()
    assert all(fact.lower() in text for fact in want.get("cause_contains", [])), text
    assert all(fact in first["fix"] for fact in want.get("fix_contains", [])), first["fix"]
    assert first["rule_id"] not in want.get("not_first", [])
