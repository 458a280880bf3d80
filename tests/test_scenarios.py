"""Every fixture bundle with an expected.yaml: the expected rule is the first error-level finding, and
the exit code is what a CI gate would see."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import FIXTURES, ROOT

SCENARIOS = sorted(p.parent for p in FIXTURES.glob("**/expected.yaml")
                   if "corpus" not in p.parts  # the real-case corpus has its own runner (tests/corpus/)
                   and ((p.parent / "manifest.yaml").exists()
                        or any((p.parent / d).is_dir() for d in ("docker", "k8s", "config", "traffic"))))
REPORT_SCHEMA = __import__("json").loads((ROOT / "doctor/schemas/report.schema.json").read_text())


@pytest.mark.parametrize("bundle", SCENARIOS, ids=[str(p.relative_to(FIXTURES)) for p in SCENARIOS])
def test_scenario(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    expected = yaml.safe_load((bundle / "expected.yaml").read_text())
    run = cli("check", str(bundle), "--format", "json")
    report = run.json()
    jsonschema.validate(report, REPORT_SCHEMA)
    errors = [f["rule_id"] for f in report["findings"] if f["severity"] in ("error", "critical")]
    if expected.get("first_error"):
        assert errors and errors[0] == expected["first_error"], report["findings"]
        assert run.code == 1
    else:
        assert errors == [], report["findings"]
        assert run.code == 0
    for rule_id in expected.get("absent", []):
        assert rule_id not in [f["rule_id"] for f in report["findings"]]


def test_a_container_killed_for_memory_is_the_cause_of_the_load_that_failed(cli) -> None:  # type: ignore[no-untyped-def]
    """TorchServe's container killed for memory while its worker loaded: the kill leads, the failed load follows it, and
    the frontend's own java.lang.InterruptedException is not named as the handler's exception (CI stop 35 reported
    `its handler raised java.lang.InterruptedException` first)."""
    report = cli("check", str(FIXTURES / "bundles/torchserve-container-oom-killed"), "--format", "json").json()
    by_id = {f["rule_id"]: f for f in report["findings"]}
    assert report["findings"][0]["rule_id"] == "oom-killed"
    assert by_id["init-failure"]["consequence_of"] == "oom-killed"
    assert not [f["title"] for f in report["findings"] if "java." in f["title"] + f["cause"]]
