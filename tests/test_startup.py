"""Start-up stays light: listing rules and checking a bundle never import the Docker or Kubernetes clients."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from conftest import FIXTURES

HEALTHY = FIXTURES / "bundles" / "docker-healthy"


@pytest.mark.parametrize("args", [["--help"], ["rules", "list"], ["check", str(HEALTHY), "--format", "json"]])
def test_no_client_imports(args: list[str]) -> None:
    code = (f"import sys\nfrom doctor.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(','.join(m for m in ('docker', 'kubernetes') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr == ""


HEAVY = ("prompt_toolkit", "cel.cli", "typer")


@pytest.mark.parametrize("args", [["--help"], ["rules", "list"]])
def test_cel_without_its_repl(args: list[str]) -> None:
    """CEL predicates are checked through the extension module alone, never the `cel` package's REPL."""
    code = (f"import sys\nfrom doctor.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            f"sys.stderr.write(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr == ""


def test_help_imports_no_rule_machinery() -> None:
    code = ("import sys\nfrom doctor.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(','.join(m for m in ('cel', 'cel.cel', 'jsonschema', 'jinja2', 'hyperscan', 'yaml')"
            " if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr == ""


def test_predicates_still_evaluate() -> None:
    from doctor.rules import exprs

    assert exprs.holds('x > 1 && "a" in y', {"x": 2, "y": ["a"]}) and not exprs.holds("x > 1", {"x": 0})


def test_bundle_check_skips_the_paste_reader_and_urllib() -> None:
    """A bundle of container logs never imports the paste reader (no pasted/, deploy/ or client/ in it), nor
    urllib.request / email.utils (xml.sax.saxutils and a module-level date parser pulled them in: ~30 ms)."""
    heavy = ("doctor.collect.pasted", "urllib.request", "email.utils", "xml.sax.saxutils")
    code = (f"import sys\nfrom doctor.cli import main\ntry:\n    main(['check', {str(HEALTHY)!r}, '--format', 'json'])\n"
            f"except SystemExit:\n    pass\nsys.stderr.write(','.join(m for m in {heavy!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr == ""


def test_bundle_check_with_cached_rules_reads_no_yaml(tmp_path: pytest.TempPathFactory) -> None:
    """Once the rule files' data is cached, a check of a bundle holding no YAML never imports PyYAML (~11 ms of a
    start on one core): the third of three checks sharing a cache (the first checks the rule files, the second
    keeps their data)."""
    import os

    code = (f"import sys\nfrom doctor.cli import main\ntry:\n    main(['check', {str(HEALTHY)!r}, '--format', 'json'])\n"
            "except SystemExit:\n    pass\nsys.stderr.write('yaml' if 'yaml' in sys.modules else '')")
    env = {**os.environ, "MLDOCTOR_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(3)]
    assert [run.stderr for run in runs] == ["yaml", "yaml", ""]


def test_malformed_yaml_still_says_where(tmp_path: pytest.TempPathFactory) -> None:
    """PyYAML imported only when a text is read: its errors are still the one clear line with the file and line."""
    from pathlib import Path

    from doctor.bundle import load_objects
    from doctor.errors import InputError

    root = Path(str(tmp_path))
    (root / "deployment.yaml").write_text("spec:\n  replicas: [1, 2\n  image: x\n")
    with pytest.raises(InputError, match=r"deployment\.yaml: not valid YAML: .* at line \d"):
        load_objects(root / "deployment.yaml", root)


def _run_command(tmp_path: Any, before: str) -> subprocess.CompletedProcess[str]:
    code = (f"import atexit, sys, threading, time\nmark = {str(tmp_path)!r}\n{before}\n"
            f"sys.argv = ['mldoctor', 'check', {str(HEALTHY)!r}, '--format', 'json']\n"
            "from doctor.cli import run\nrun()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_command_ends_without_teardown_yet_flushes_and_runs_exit_handlers(tmp_path: Any) -> None:
    """`mldoctor` ends the process once the report is out, skipping the interpreter's teardown (~20 ms a check):
    the report is whole, the exit code is the check's, and the exit handlers (a live collection's temporary folders
    are removed by one) have run."""
    run = _run_command(tmp_path, "atexit.register(lambda: open(mark + '/handler', 'w').write('ran'))")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "healthy"
    assert (tmp_path / "handler").read_text() == "ran"


def test_the_command_waits_for_a_running_thread(tmp_path: Any) -> None:
    """A thread that is not a daemon and still runs when the report is out is waited for, as Python's own exit
    does."""
    run = _run_command(tmp_path, "threading.Thread(target=lambda: (time.sleep(0.5), open(mark + '/thread', 'w').write('done'))).start()")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "thread").read_text() == "done"
