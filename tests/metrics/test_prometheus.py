"""Metrics as evidence: a real Prometheus (Debian's package) serving a TSDB backfilled with promtool from a
generated OOM story; `check --prometheus` reads it, reports the peak and sizes the fix from it."""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from browser import chromium_dom
from conftest import FIXTURES


from story import oom_story

BUNDLE = FIXTURES / "k8s" / "oom-killed"
POD, CONTAINER, NAMESPACE = "scorer-7c9d8f6b5-x2x7k", "scorer", "ml-prod"
END = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)  # the bundle's collected_at
GIB = 1024**3


def _binaries() -> tuple[str, str]:
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        message = "prometheus/promtool not installed (apt-get install prometheus); .ci/run installs them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, float]]:
    """A Prometheus on loopback whose TSDB holds the OOM story; yields its URL and the story's peak."""
    server, promtool = _binaries()
    work = tmp_path_factory.mktemp("prom")
    text, peak = oom_story(NAMESPACE, POD, CONTAINER, END, GIB)
    (work / "story.om").write_text(text)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(work / "story.om"), str(work / "tsdb")],
                   check=True, capture_output=True, timeout=120)
    (work / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    port = _free_port()
    proc = subprocess.Popen([server, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
                            stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/-/ready", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("prometheus exited: " + (work / "prometheus.log").read_text()[-2000:])
                time.sleep(0.2)
        else:
            pytest.fail("prometheus did not get ready in 30 s")
        yield url, peak
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_oom_story_peak_in_cause_and_fix(cli, prometheus: tuple[str, float]) -> None:  # type: ignore[no-untyped-def]
    url, peak = prometheus
    report = cli("check", str(BUNDLE), "--prometheus", url, "--format", "json").json()
    first = report["findings"][0]
    assert first["rule_id"] == "oom-killed"
    assert first["values"]["memory_peak_bytes"] == pytest.approx(peak)
    assert "climbing to 1 GB" in first["cause"] and "100 % of the 1 GB limit" in first["cause"]
    assert first["values"]["suggested_memory_gb"] == 1.5  # 1.5 x the observed peak, not twice the limit
    assert "1.5 × the observed peak of 1 GB" in first["fix"]
    shown = [e for e in first["evidence"] if e["source"] == "prometheus"]
    assert shown and "container_memory_working_set_bytes{" in shown[0]["excerpt"] and POD in shown[0]["excerpt"]
    assert any(n.startswith("prometheus: 4 series") for n in report["notes"])
    assert not report["collector_errors"]


def test_without_prometheus_nothing_changes(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("check", str(BUNDLE), "--format", "json").json()["findings"][0]
    assert first["rule_id"] == "oom-killed" and first["values"].get("memory_peak_bytes") is None
    assert first["values"]["suggested_memory_gb"] == 2.0 and "observed peak" not in first["fix"]


def test_html_plots_memory_against_the_limit(cli, prometheus: tuple[str, float], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "report.html"
    cli("check", str(BUNDLE), "--prometheus", prometheus[0], "--format", "html", "-o", str(page))
    dom = chromium_dom(page)
    img = re.search(r'<img alt="memory working set against the limit" src="data:image/svg\+xml;base64,([^"]+)"', dom)
    assert img, "the memory chart is on the rendered page"
    svg = base64.b64decode(img.group(1)).decode()
    assert svg.count("<path") == 2 and "working set" in svg and "limit" in svg and POD in svg


def test_unreachable_prometheus_is_a_collector_error(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(BUNDLE), "--prometheus", f"http://127.0.0.1:{_free_port()}", "--format", "json")
    report = run.json()
    assert run.code == 1 and report["findings"][0]["rule_id"] == "oom-killed"
    assert [e["collector"] for e in report["collector_errors"]] == ["prometheus"]
    assert "cannot reach 127.0.0.1" in report["collector_errors"][0]["error"]


def test_promql_literals_escape_what_they_quote() -> None:
    from doctor.collect.prometheus import promql_regex_alternatives, promql_string

    assert promql_string('a"b\\c') == '"a\\"b\\\\c"'
    assert promql_regex_alternatives(["web-1", "a.b"]) == '"a\\\\.b|web-1"'
