"""Every stack's scenarios and the server version its image runs (pinned in .ci/servers.sh)."""

from __future__ import annotations

from servers_scenarios import Scenario
from stack_azmlinfsrv import SCENARIOS as AZMLINFSRV

STACKS: dict[str, tuple[list[Scenario], str]] = {
    "azmlinfsrv": (AZMLINFSRV, "azureml-inference-server-http 1.5.1, gunicorn 27.0.1"),
}
