"""A bug in mldoctor (an unexpected exception) exits 4, not 2 (bad input) or 3 (unreachable), with one line naming
the file its traceback was saved to; the file has the traceback and no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES


def test_internal_error_exits_4_with_a_saved_traceback(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from doctor import pipeline

    def bug(*args: Any, **kwargs: Any) -> None:
        raise KeyError("AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5PT0=")

    monkeypatch.setattr(pipeline, "diagnose_all", bug)
    monkeypatch.setenv("MLDOCTOR_CRASH_DIR", str(tmp_path))
    monkeypatch.delenv("MLDOCTOR_DEBUG", raising=False)
    run = cli("check", str(FIXTURES / "bundles" / "docker-healthy"))
    assert run.code == 4
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mldoctor: internal error: KeyError")
    saved, = tmp_path.glob("mldoctor-traceback-*.txt")
    assert f"traceback saved to {saved}" in lines[0]
    text = saved.read_text()
    assert "Traceback (most recent call last)" in text and "in bug" in text and "command: mldoctor check" in text
    assert "c2VjcmV0a2V5" not in text and "c2VjcmV0a2V5" not in run.err


def test_bad_input_is_still_2(cli: Any, tmp_path: Path) -> None:
    run = cli("check", str(tmp_path / "no-such-bundle"))
    assert run.code == 2 and "internal error" not in run.err
