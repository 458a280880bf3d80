"""The fast scan engine finds exactly what the reference `re` engine finds, on generated logs and fixtures."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from doctor import logs
from doctor.rules.logscan import ScanPlan
from doctor.rules.loader import builtin_rules_dir, load_rules
from doctor.rules.model import LogCond, walk
from doctor.scan import LineHit, ReScanner, make_scanner

hs = pytest.importorskip("doctor.scan_hs")

# Patterns the fast engine cannot take, or takes only in part: they must fall back cleanly.
AWKWARD = [r"(?<=pid )\d+", r"(\w+) \1", r"timeout\Z", r"^$", r"[^\"]+\" 5\d\d", r"(?i)ERROR:\s+(?P<what>.*)",
           r"a.*", r"x|.*", r"Traceback \(most recent call last\):$"]


def builtin_patterns() -> list[str]:
    """Every log pattern of the built-in rules, as the engine numbers them."""
    rules = load_rules([], builtin=True)
    return ScanPlan([c for r in rules for c in walk(r.when) if isinstance(c, LogCond)]).patterns


PATTERNS = builtin_patterns() + AWKWARD

LINES = [
    b"2026-11-25T15:31:27.123456789Z Booting worker with pid: 123",
    b'127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] "POST /score HTTP/1.1" 503 12 "-" "curl"',
    b"2026-11-25 15:31:27,000 | root | ERROR | User's init function failed",
    b"ValueError: bad input", b"  File \"/var/azureml-app/score.py\", line 12, in init",
    b"[CRITICAL] WORKER TIMEOUT (pid:123)", b"Worker (pid:7) exited with code 3", b"timeout", b"", b"\r",
    b"ab ab", b"pid 42", b"Traceback (most recent call last):", b"\xff\xfe error: \xc3(", b"x" * 300,
    b"error:   KeyError: 'x'\r", b"azmlinfsrv - POST /score 200 0.918ms 19",
]


def _line() -> st.SearchStrategy[bytes]:
    return st.one_of(st.sampled_from(LINES), st.binary(max_size=60),
                     st.builds(lambda a, b: a + b, st.sampled_from(LINES), st.binary(max_size=8)))


def _log() -> st.SearchStrategy[bytes]:
    return st.builds(lambda lines, crlf, tail: (b"\r\n" if crlf else b"\n").join(lines) + tail,
                     st.lists(_line(), max_size=60), st.booleans(), st.sampled_from([b"", b"\n", b"\r\n"]))


def summary(hits: Iterator[LineHit]) -> list[tuple[Any, ...]]:
    """What a scan found, comparable across engines: line, bytes, and each pattern's groups."""
    return [(h.number, h.line, tuple((i, m.group(0), m.groups(), m.groupdict()) for i, m in h.matches)) for h in hits]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks and a tiny line cap so generated logs cross every border."""
    monkeypatch.setattr(logs, "MAX_LINE_BYTES", 97)


SCANNERS: dict[str, Any] = {}


def scanners() -> tuple[Any, Any]:
    """Both engines over PATTERNS, compiled once."""
    if not SCANNERS:
        SCANNERS.update(re=ReScanner(PATTERNS), hs=hs.HyperscanScanner(PATTERNS))
    return SCANNERS["re"], SCANNERS["hs"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=_log(), chunk=st.integers(min_value=1, max_value=300))
def test_hyperscan_equals_re(data: bytes, chunk: int) -> None:
    reference, fast = scanners()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logs.iter_chunks, "__defaults__", (chunk,))
        patch.setattr(logs.iter_blocks, "__defaults__", (chunk, 2))
        assert summary(fast.scan(io.BytesIO(data))) == summary(reference.scan(io.BytesIO(data)))


def test_big_blocks_split_in_two_threads() -> None:
    data = b"\n".join(LINES * 20000)  # > 64 KB per block: both halves are scanned
    reference = summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))
    assert reference and summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == reference


def test_fallback_patterns_are_only_the_awkward_ones() -> None:
    scanner = hs.HyperscanScanner(PATTERNS)
    slow = {PATTERNS[i] for i in scanner.slow_ids}
    assert slow <= set(AWKWARD) and r"(?<=pid )\d+" in slow and r"(\w+) \1" in slow and r"timeout\Z" in slow


def test_auto_and_env_pick_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(make_scanner(["a"])).__name__ == "HyperscanScanner"
    monkeypatch.setenv("MLDOCTOR_SCAN_ENGINE", "re")
    assert isinstance(make_scanner(["a"]), ReScanner)
    with pytest.raises(ValueError, match="unknown scan engine"):
        make_scanner(["a"], "grep")


def test_reader_reuses_buffers_and_equals_chunks() -> None:
    data = b"".join(LINES * 50)
    views = list(bytes(v) for v in logs.iter_blocks(io.BytesIO(data), 100))
    assert views == list(logs.iter_chunks(io.BytesIO(data), 100))


BUNDLES = sorted(p for p in (FIXTURES / "bundles").iterdir() if p.is_dir())


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_check_same_findings_with_both_engines(bundle: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    out = {}
    for engine in ("re", "hyperscan"):
        monkeypatch.setenv("MLDOCTOR_SCAN_ENGINE", engine)
        report = cli("check", str(bundle), "--format", "json").json()
        report.pop("generated_at", None)
        assert report["tool"].pop("scan_engine") == engine  # the report says which engine scanned
        out[engine] = json.dumps(report, sort_keys=True)
    assert out["re"] == out["hyperscan"]


def test_database_cache_rebuilt_when_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLDOCTOR_CACHE_DIR", str(tmp_path))
    hs.HyperscanScanner(PATTERNS)
    cached, = tmp_path.glob("hs-*.db")
    cached.write_bytes(b"[0]\n" + b"garbage" * 100)
    data = b"\n".join(LINES * 3)
    assert summary(hs.HyperscanScanner(PATTERNS).scan(io.BytesIO(data))) == summary(ReScanner(PATTERNS).scan(io.BytesIO(data)))


def test_nested_quantifiers_are_found() -> None:
    from doctor.scan import nested_quantifier

    assert all(map(nested_quantifier, [r"(a+)+$", r"(a*)*b", r"(\w+\s?)+=", r"((ab)+)+", r"x(?:\d+)*y"]))
    assert not any(map(nested_quantifier, [r"(?:[A-Za-z_]\w*\.)*\w+Error", r"(a+b)+", r"a+b+", r"(\d+)"] + PATTERNS[:-len(AWKWARD)]))
