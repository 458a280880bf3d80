"""Start-up stays light: listing rules and checking a bundle never import the Docker or Kubernetes clients."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import FIXTURES

HEALTHY = FIXTURES / "bundles" / "docker-healthy"


@pytest.mark.parametrize("args", [["--help"], ["rules", "list"], ["check", str(HEALTHY), "--format", "json"]])
def test_no_client_imports(args: list[str]) -> None:
    code = (f"import sys\nfrom doctor.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(','.join(m for m in ('docker', 'kubernetes') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr == ""
