"""`pip install .` brings the fast scanner where PyPI has a hyperscan wheel, and which scan engine runs is said:
in `mldoctor --version` and in the JSON report's `tool.scan_engine`."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from conftest import FIXTURES, ROOT


def run(*args: str, **env: str) -> str:
    """stdout of `mldoctor ARGS` in a fresh interpreter."""
    import os

    done = subprocess.run([sys.executable, "-m", "doctor", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


@pytest.mark.parametrize("engine,shown", [("hyperscan", "(log scan engine: hyperscan; traffic pass: "), ("re", "(log scan engine: re; pure Python")])
def test_version_names_the_scan_engine(engine: str, shown: str) -> None:
    assert shown in run("--version", MLDOCTOR_SCAN_ENGINE=engine)


@pytest.mark.parametrize("native,shown", [("1", "; traffic pass: c)"),
                                          ("0", "; traffic pass: numpy (MLDOCTOR_TRAFFIC_NATIVE=0)")])
def test_version_names_the_traffic_pass(native: str, shown: str) -> None:
    """The C pass is built by the install CI does (`pip install -e .`): `c` here, unless turned off."""
    assert shown in run("--version", MLDOCTOR_TRAFFIC_NATIVE=native)


def test_json_report_names_the_scan_engine() -> None:
    import json

    report = json.loads(run("check", str(FIXTURES / "bundles" / "docker-healthy"), "--format", "json",
                            MLDOCTOR_SCAN_ENGINE="re"))
    assert report["tool"]["scan_engine"] == "re"
    assert report["tool"]["traffic_engine"] == "c"


@pytest.mark.parametrize("platform,machine,python", [("linux", "x86_64", "3.11"), ("linux", "x86_64", "3.13"),
                                                     ("linux", "aarch64", "3.12"), ("darwin", "arm64", "3.12"),
                                                     ("win32", "AMD64", "3.12")])
def test_plain_install_gets_hyperscan_where_a_wheel_exists(platform: str, machine: str, python: str) -> None:
    deps = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    where = {"sys_platform": platform, "platform_machine": machine, "python_version": python}
    assert any(d.name == "hyperscan" and (d.marker is None or d.marker.evaluate(where)) for d in deps)
