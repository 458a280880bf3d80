"""The hostile-bundle suite: every generated hostile input (tests/security/hostile_cases.py) ends with exit 0, 1 or 2
and one clear line, within TIME_BOUND seconds and MEMORY_BOUND_MB of peak RSS, reading no file outside the bundle
(an audit hook records every open, by real path) and writing nothing outside the run's temp folder.

The cases run in child processes (one per distinct environment) with their own HOME, TMPDIR and working folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from security.hostile_cases import CASES, ROOT, Case

TIME_BOUND = 60.0  # the longest a case may take (each states its own bound, 20 s unless said; measured: SECURITY.md)
MEMORY_BOUND_MB = 300  # peak RSS while a case runs (run_case.py resets the mark before each)
RUNNER = Path(__file__).with_name("run_case.py")


def _run_group(tmp: Path, env: dict[str, str], cases: dict[str, Case]) -> dict[str, dict[str, Any]]:
    """Run cases sharing one environment in one child process; their results by name."""
    for name in ("home", "tmp", "cwd"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    spec, results = tmp / "cases.json", tmp / "tmp" / "results.jsonl"
    spec.write_text(json.dumps([{"name": n, "args": c.args} for n, c in cases.items()]))
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp / "home"), "TMPDIR": str(tmp / "tmp"),
                 "NO_COLOR": "1", **env}
    child_env.pop("MLDOCTOR_DEBUG", None)
    proc = subprocess.run([sys.executable, str(RUNNER), str(spec), str(results)], cwd=tmp / "cwd", env=child_env,
                          capture_output=True, text=True, timeout=TIME_BOUND * len(cases))
    found = {r["name"]: r for r in map(json.loads, results.read_text().splitlines())} if results.exists() else {}
    for name in cases:
        found.setdefault(name, {"crashed": proc.stderr[-3000:]})
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Path, dict[str, Any]]]:
    """Every case built in its own folder and run."""
    base = tmp_path_factory.mktemp("hostile")
    built = {}
    for index, (name, build) in enumerate(sorted(CASES.items())):
        folder = base / f"case{index}"
        folder.mkdir()
        built[name] = (build(folder), folder)
    groups: dict[str, dict[str, Case]] = {}
    for name, (case, _) in built.items():
        groups.setdefault(json.dumps([case.env, name if case.alone else ""], sort_keys=True), {})[name] = case
    out: dict[str, tuple[Case, Path, dict[str, Any]]] = {}
    for index, (env, cases) in enumerate(sorted(groups.items())):
        ran = _run_group(base / f"run{index}", json.loads(env)[0], cases)
        out.update({name: (built[name][0], built[name][1], ran[name]) for name in cases})
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_case(name: str, results: dict[str, tuple[Case, Path, dict[str, Any]]]) -> None:
    case, folder, run = results[name]
    assert "crashed" not in run, run.get("crashed")
    text = run["out"] + run["err"]
    assert run["code"] in case.codes, (run["code"], run["err"][-2000:])
    assert "Traceback" not in run["err"] and "internal error" not in run["err"], run["err"][-2000:]
    if run["code"] == 2:
        assert len(run["err"].strip().splitlines()) == 1, run["err"]
    for needle in case.absent:
        assert needle not in text, needle
    for needle in case.contains:
        assert needle in text, (needle, run["err"], run["out"][-2000:])
    base = os.path.realpath(folder.parent)
    outside = os.path.join(os.path.realpath(folder), "outside")
    read_outside = [p for p, _ in run["opens"] if p == outside or p.startswith(outside + os.sep)]
    assert not read_outside, read_outside
    written = [p for p, w in run["opens"] if w and not p.startswith(base + os.sep) and p != os.devnull]
    assert not written, written
    assert run["seconds"] < case.seconds, run["seconds"]
    assert run["rss_mb"] < MEMORY_BOUND_MB, run["rss_mb"]
    print(f"hostile case {name!r}: exit {run['code']}, {run['seconds']:.2f} s, peak RSS {run['rss_mb']:.0f} MB")
