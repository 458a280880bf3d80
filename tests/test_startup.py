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
