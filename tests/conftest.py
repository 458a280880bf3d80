"""Shared helpers: run the CLI in-process and read fixture expectations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skip is a failure: everything a test can skip for (an engine, a tool) is installed there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where nothing may be missing: {reason}"


class Run:
    """One CLI run: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Call `mldoctor ARGS...` in-process."""
    from doctor.cli import main

    def run(*args: str) -> Run:
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The real-case corpus score line (tests/corpus/), printed at the end of any run that checked the corpus."""
    import sys

    corpus = sys.modules.get("test_corpus")
    if corpus is None or not getattr(corpus, "RESULTS", None):
        return
    score = sys.modules["score"]
    terminalreporter.write_line(score.score_line(corpus.RESULTS))
    for result in corpus.RESULTS:
        if result.failing and not result.facts_right:
            terminalreporter.write_line("  " + result.line)
