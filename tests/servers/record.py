"""Record bundles from the real-server scenario containers into fixtures/servers/STACK-SCENARIO/.

    python tests/servers/record.py [STACK[:SCENARIO]...]   # needs the engine and the images (.ci/servers.sh)

For each scenario: start its container, drive it, `python -m doctor collect docker:NAME -o ...`, unpack the bundle
into fixtures/servers/STACK-SCENARIO/ and write expected.yaml from the scenario's expectation. The bundles are
recorded outputs of real servers (docker inspect / logs / events), checked offline by test_recorded.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: containers.py
sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers_scenarios import REPO, Scenario, create, drive, image, remove  # noqa: E402
from stacks import STACKS  # noqa: E402

OUT = REPO / "fixtures" / "servers"


def expected(s: Scenario, version: str) -> dict[str, Any]:
    """expected.yaml for a recorded scenario (the corpus format, plus the values the first finding carries)."""
    out: dict[str, Any] = {"recorded": f"tests/servers/record.py from a real container of {image(s.stack)} "
                                       f"({version}); docker inspect / logs --timestamps / events, via mldoctor collect"}
    if s.expect is None:
        return {**out, "failing": False}
    out.update(failing=True, first=s.expect.rule, first_error=s.expect.rule)  # first_error: tests/test_scenarios.py
    if s.expect.cause:
        out["cause_contains"] = list(s.expect.cause)
    if s.expect.fix:
        out["fix_contains"] = list(s.expect.fix)
    if s.expect.values:
        out["values"] = dict(s.expect.values)
    if s.expect.not_first:
        out["not_first"] = list(s.expect.not_first)
    return out


def record(client: Any, s: Scenario, version: str) -> Path:
    """Drive one scenario and unpack its bundle into the fixture folder."""
    target = OUT / f"{s.stack}-{s.key}"
    try:
        create(client, s)
        drive(client, s)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "b.tar.gz"
            subprocess.run([sys.executable, "-m", "doctor", "collect", f"docker:{s.name}", "-o", str(bundle)],
                           check=True, cwd=REPO, timeout=300)
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            with tarfile.open(bundle) as tar:
                tar.extractall(target, filter="data")
        (target / "expected.yaml").write_text(yaml.safe_dump(expected(s, version), sort_keys=False))
    finally:
        remove(client, s.name)
    return target


def main(stacks: list[str]) -> int:
    """Record every scenario of the stacks named (all when none)."""
    import docker

    client = docker.from_env(timeout=600)
    for name in stacks or list(STACKS):
        stack, _, key = name.partition(":")  # STACK or STACK:SCENARIO
        scenarios, version = STACKS[stack]
        for s in scenarios:
            if not key or s.key == key:
                print(f"recorded {record(client, s, version).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
