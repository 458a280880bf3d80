"""Stack detection (doctor/stack.py): the report names the serving stack from command, image, env and log format."""

from __future__ import annotations

from pathlib import Path

from doctor.bundle import read_bundle_dir
from doctor.evidence import ContainerState, Evidence, LogSource, Target
from doctor.stack import detect

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def evidence(log: str = "", command: tuple[str, ...] = (), image: str | None = None,
             env: tuple[tuple[str, str], ...] = ()) -> Evidence:
    ev = Evidence(Target("bundle", "t"))
    if log:
        ev.logs.append(LogSource.from_bytes("docker/x/logs.txt", "x", log.encode()))
    if command or image or env:
        ev.states.append(ContainerState("docker/x/inspect.json", "x", image=image, command=command, env=env))
    return ev


def test_command_names_the_server() -> None:
    found = detect(evidence(command=("azmlinfsrv", "--entry_script", "/var/azureml-app/score.py")))
    assert found is not None and found.info.name == "azmlinfsrv" and found.signals[0].startswith("command")


def test_azmlinfsrv_banner_gives_the_version() -> None:
    # the banner azmlinfsrv prints first (Microsoft's inference-server docs, shared/docs/azureml-facts.md §3.2)
    found = detect(evidence("Azure ML Inferencing HTTP server v1.2.2\n\n\nServer Settings\n---------------\n"))
    assert found is not None and (found.info.name, found.version) == ("azmlinfsrv", "1.2.2")


def test_command_outweighs_hints() -> None:
    found = detect(evidence(command=("mlserver", "start", "/models"), env=(("AZUREML_MODEL_DIR", "/m"),)))
    assert found is not None and found.info.name == "mlserver"


def test_image_alone() -> None:
    found = detect(evidence(image="nvcr.io/nvidia/tritonserver:24.05-py3"))
    assert found is not None and found.info.name == "triton" and "config.pbtxt" in found.info.settings


def test_nothing_shows_a_stack() -> None:
    assert detect(evidence("hello\nworld\n")) is None


def test_stand_in_bundle_is_gunicorn() -> None:
    found = detect(read_bundle_dir(FIXTURES / "bundles" / "docker-boot-loop", "b"))
    assert found is not None and found.info.name == "gunicorn"
