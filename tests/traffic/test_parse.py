"""Parsers on real-format lines: azmlinfsrv summary, gunicorn access (plain and inside azmlinfsrv), legacy,
nginx / ingress-nginx, health probes and malformed lines."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doctor.evidence import Evidence, LogSource, Target
from doctor.traffic import stats_for
from doctor.traffic.parse import LineParser, has_client_error, parse_line

ROOT = Path(__file__).resolve().parents[2]

SUMMARY = b"2026-11-25 15:31:27,524 I [10362] azmlinfsrv - POST /score 200 0.918ms 19"
TWIN = (b'2026-11-25 15:31:27,525 I [10362] gunicorn.access - 127.0.0.1 - - [25/Nov/2026:15:31:27 +0000] '
        b'"POST /score HTTP/1.1" 200 19 "-" "curl/7.88.1"')
LEGACY = b'127.0.0.1 - - [19/Jun/2019:07:41:44 +0000] "GET /score HTTP/1.0" 500 4 "-" "Mozilla/5.0 (Windows NT 10.0)"'
INGRESS = (b'10.244.0.1 - - [25/Nov/2026:15:32:29 +0000] "POST /score HTTP/1.1" 504 160 "-" "python-requests/2.32.3" '
           b'1532 60.002 [ml-scorer-80] [] 10.244.0.5:5001 0 60.001 504 6ad0e511')
NGINX = b'10.0.0.9 - - [25/Nov/2026:15:32:30 +0000] "POST /score HTTP/1.1" 503 197 "-" "curl/8.5.0"'


def test_summary_line_has_latency() -> None:
    request = parse_line(SUMMARY)
    assert request and request.status == 200 and request.latency_ms == 0.918 and request.path == "/score"


def test_legacy_ingress_and_nginx_lines() -> None:
    legacy, ingress, nginx = parse_line(LEGACY), parse_line(INGRESS), parse_line(NGINX)
    assert legacy and legacy.status == 500 and legacy.method == "GET"
    assert ingress and ingress.status == 504 and ingress.latency_ms == 60002.0
    assert nginx and nginx.status == 503 and nginx.latency_ms is None


def test_summary_and_access_twin_count_once() -> None:
    parser = LineParser(strict=False)
    assert [parser.feed(line) is not None for line in (SUMMARY, TWIN)] == [True, False]


def _stats(text: bytes, kind: str = "access") -> dict:  # type: ignore[type-arg]
    ev = Evidence(Target("bundle", "t"))
    ev.logs.append(LogSource.from_bytes("t.log", "app", text, kind=kind))
    stats = stats_for(ev)
    assert stats is not None
    return stats


def test_malformed_lines_are_counted_and_skipped() -> None:
    text = b"\n".join([NGINX, b"this is not an access line", b'10.0.0.9 - - [garbage "POST', LEGACY, b""])
    stats = _stats(text)
    assert stats["requests"] == 2 and stats["malformed_lines"] == 2


def test_health_probes_are_not_scoring_traffic() -> None:
    probe = b'2026-11-25 15:31:28,525 I [9] gunicorn.access - 10.0.0.1 - - [25/Nov/2026:15:31:28 +0000] "GET / HTTP/1.1" 200 7 "-" "kube-probe/1.30"'
    stats = _stats(b"\n".join([SUMMARY, TWIN, probe]), kind="container")
    assert stats["requests"] == 1 and stats["has_latency"] and stats["malformed_lines"] == 0


def test_contract_keys_present() -> None:
    stats = _stats(NGINX + b"\n" + LEGACY)
    for key in ("requests", "status", "status_class", "errors_5xx", "count_503", "count_504", "count_502", "count_500",
                "count_429", "count_408", "first_time", "last_time", "duration_s", "peak_rps", "peak_rps_time", "mean_rps",
                "peak_503_per_second", "bursts_503", "burst_count", "has_latency", "latency_ms", "slow_requests",
                "malformed_lines", "sources", "excerpts"):
        assert key in stats, key
    assert stats["status_class"] == {"5xx": 2} and stats["burst_count"] == 0 and stats["latency_ms"]["p50"] == 0


def test_single_503_is_not_a_burst_but_a_spike_is() -> None:
    line = '10.0.0.9 - - [25/Nov/2026:15:32:{:02d} +0000] "POST /score HTTP/1.1" {} 19 "-" "curl/8.5.0"'
    calm = [line.format(s, 200) for s in range(40)] + [line.format(41, 503)]
    assert _stats("\n".join(calm).encode())["burst_count"] == 0
    spike = calm + [line.format(50, 503)] * 6
    burst = _stats("\n".join(spike).encode())["bursts_503"]
    assert len(burst) == 1 and burst[0]["count"] == 7 and burst[0]["peak_per_second"] == 6


def test_uvicorn_access_lines() -> None:
    """uvicorn's access line (KServe, MLServer, vLLM, FastAPI) is a request: a vLLM server's own lines, verbatim from
    the corpus control k-vllm-healthy-control-llmsnap-404-and-ignored-fields (napmany/llmsnap#10), behind vLLM's
    `(APIServer pid=N) ` prefix; a 500 with its phrase; an access line of another format is still read as before."""
    from pathlib import Path

    from doctor.traffic.parse import parse_line

    case = Path(__file__).parents[2] / "fixtures" / "corpus" / "k-vllm-healthy-control-llmsnap-404-and-ignored-fields"
    lines = [line for f in sorted((case / "pasted").iterdir()) for line in f.read_bytes().splitlines()
             if b'HTTP/1.1" ' in line]
    assert [(r.method, r.path, r.status) for r in map(parse_line, lines) if r] == [("GET", "/health", 200), ("GET", "/", 404)]
    failed = parse_line(b'INFO:     10.0.0.5:51234 - "POST /v1/models/iris:predict HTTP/1.1" 500 Internal Server Error')
    assert failed is not None and (failed.method, failed.path, failed.status) == ("POST", "/v1/models/iris:predict", 500)
    assert parse_line(b'INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)') is None
    plain = parse_line(b'10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /x HTTP/1.1" 200 12')
    assert plain is not None and plain.time == 1704067200.0


def test_an_envoy_json_access_line_is_a_request() -> None:
    """Envoy's JSON access log (Envoy Gateway's default; vllm-project/aibrix#1920, the line verbatim): its method, the
    path the client asked for, status, duration and start time, each read by key; without a method or path, no request."""
    line = (ROOT / "fixtures/corpus/k-aibrix-envoy-gateway-503-no-healthy-upstream-helm-release-name-not-aibrix/pasted"
            / "envoy-proxy-log.txt").read_bytes().splitlines()[1]
    request = parse_line(line)
    assert request is not None
    assert (request.method, request.path, request.status, request.latency_ms) == ("POST", "/v1/completions", 503, 0.0)
    assert request.time == datetime(2026, 2, 2, 10, 40, 54, 633000, tzinfo=timezone.utc).timestamp()
    assert parse_line(line.replace(b'"method":"POST",', b"")) is None
    assert parse_line(b'{"response_code":0,"method":"POST","path":"/v1/completions"}') is None  # no answer: not a status


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"=", b"error", b"error=", b"rror=", b"e", b"r", b"x", b"\n", b"==", b"ERROR="]),
                max_size=200),
       st.integers(0, 40), st.integers(0, 40))
def test_a_client_error_is_found_as_a_plain_search_finds_it(parts: list[bytes], lo: int, cut: int) -> None:
    """`has_client_error` (in C: memchr for each `=`; in Python: from each `=`, then a plain search after
    _EQUALS_TRIED of them) answers as `b"error=" in block[start:end]` does, on any bytes and bounds; blocks of many `=`
    included."""
    from doctor.traffic import parse

    block = b"".join(parts)
    start, end = min(lo, len(block)), max(min(lo, len(block)), len(block) - cut)
    for find in {parse._find, None}:  # the C search where it was built, and the Python one
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(parse, "_find", find)
            assert has_client_error(block, start, end) == (b"error=" in block[start:end])
            assert has_client_error(bytearray(block), start, end) == (b"error=" in block[start:end])
