"""The real TorchServe in containers: `mldoctor check docker:NAME` gives each scenario's first finding."""

from __future__ import annotations

from typing import Iterator

import pytest

from servers_fixtures import Driven, assert_first, check_json, driven_stack
from stack_torchserve import SCENARIOS

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stack() -> Iterator[Driven]:
    yield from driven_stack("torchserve", SCENARIOS)


@pytest.mark.parametrize("key", [s.key for s in SCENARIOS])
def test_first_finding(stack: Driven, key: str) -> None:
    s = stack.get(key)
    code, report = check_json(f"docker:{s.name}")
    assert_first(s, code, report)
    assert report["target"]["stack"]["name"] == "torchserve", report["target"]


def test_requests(stack: Driven) -> None:
    stack.get("healthy")
    assert stack.statuses["healthy"] == [200, 200, 200]
    assert stack.statuses["handler-raises"] == [503, 503, 503, 503, 200]
    assert stack.statuses["optional"] == [200, 200, 200]  # the decoy serves
