"""How fixtures/bundles/docker-*/ are recorded: the tests/docker scenario containers (real gunicorn and Flask from
Debian bookworm running fixtures/docker-scenarios/app.py, a stand-in for Azure ML's inference server that writes
its messages) are driven into their failure, then `mldoctor collect docker:NAME` writes `docker inspect`,
`docker logs --timestamps` and `docker events` (secrets redacted) into the fixture.

    python tests/docker/record_fixtures.py [KEY ...]      # needs .ci/docker.sh first; not run by the tests

Recording again changes every time, id and count in the fixture, and so the numbers its expected.yaml, the
README and docs quote: check them after a new recording."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: containers.py
sys.path.insert(0, str(Path(__file__).parent))
from docker_scenarios import SCENARIOS, app_tar, create, drive, remove  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = {"docker-boot-loop": "bootloop", "docker-oom-killed": "main-oom", "docker-init-failure": "init-raise",
            "docker-model-not-found": "model-missing", "docker-missing-python-module": "no-module",
            "docker-scoring-error": "run-raise", "docker-worker-timeout": "slow-run", "docker-healthy": "healthy"}


def record(client: object, fixture: str, key: str) -> None:
    """Drive one scenario, collect it, and put the bundle's docker/ folder into the fixture."""
    scenario = SCENARIOS[key]
    create(client, scenario, app_tar())
    try:
        drive(client, scenario)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "bundle.tar.gz"
            subprocess.run([sys.executable, "-m", "doctor", "collect", f"docker:{scenario.name}", "-o", str(bundle)],
                           check=True, cwd=ROOT)
            with tarfile.open(bundle) as tar:
                tar.extractall(Path(tmp) / "out", filter="data")
            target = ROOT / "fixtures" / "bundles" / fixture / "docker"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(next((Path(tmp) / "out").rglob("docker")), target)
    finally:
        remove(client, scenario.name)


def main(keys: list[str]) -> int:
    """Record the fixtures named (all of them when none)."""
    import docker

    client = docker.from_env()
    for fixture, key in FIXTURES.items():
        if not keys or fixture in keys or key in keys:
            record(client, fixture, key)
            print(f"recorded fixtures/bundles/{fixture} from {SCENARIOS[key].name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
