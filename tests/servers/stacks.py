"""Every stack's scenarios and the server version its image runs (pinned in .ci/servers.sh)."""

from __future__ import annotations

from servers_scenarios import Scenario
from stack_azmlinfsrv import SCENARIOS as AZMLINFSRV
from stack_bentoml import SCENARIOS as BENTOML
from stack_kserve import SCENARIOS as KSERVE
from stack_mlserver import SCENARIOS as MLSERVER
from stack_torchserve import SCENARIOS as TORCHSERVE

STACKS: dict[str, tuple[list[Scenario], str]] = {
    "azmlinfsrv": (AZMLINFSRV, "azureml-inference-server-http 1.5.1, gunicorn 27.0.1"),
    "mlserver": (MLSERVER, "mlserver 1.7.1, mlserver-sklearn 1.7.1, scikit-learn 1.9.1"),
    "kserve": (KSERVE, "kserve 0.21.0"),
    "bentoml": (BENTOML, "bentoml 1.4.40"),
    "torchserve": (TORCHSERVE, "torchserve 0.12.0, torch-model-archiver 0.12.0, torch 2.13.0 (CPU), OpenJDK 17"),
}
