"""The real azmlinfsrv in containers: `mldoctor check docker:NAME` gives each scenario's first finding."""

from __future__ import annotations

from typing import Iterator

import pytest

from servers_fixtures import Driven, assert_first, check_json, driven_stack
from stack_azmlinfsrv import SCENARIOS

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stack() -> Iterator[Driven]:
    yield from driven_stack("azmlinfsrv", SCENARIOS)


@pytest.mark.parametrize("key", [s.key for s in SCENARIOS])
def test_first_finding(stack: Driven, key: str) -> None:
    s = stack.get(key)
    code, report = check_json(f"docker:{s.name}")
    assert_first(s, code, report)
    assert report["target"]["stack"]["name"] == "azmlinfsrv", report["target"]


def test_healthy_answers_and_request_errors_are_500(stack: Driven) -> None:
    stack.get("healthy")
    assert stack.statuses["healthy"] == [200, 200, 200]
    assert stack.statuses["handler-raises"] == [500, 500, 500, 500, 200]
    assert stack.statuses["handled-then-raises"] == [500, 500, 500, 200]
    assert stack.statuses["optional-import"] == [200, 200, 200]  # the decoy: its printed ModuleNotFoundError is handled
