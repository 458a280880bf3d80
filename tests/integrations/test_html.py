"""The HTML report: self-contained, escaped, and rendered by headless Chromium without console errors."""

from __future__ import annotations

import re
from pathlib import Path


from browser import chromium as _chromium
from conftest import FIXTURES
from doctor.evidence import Severity, Target
from doctor.findings import Excerpt, Finding, Report
from doctor.report import html

BUNDLES = sorted(p for p in (FIXTURES / "bundles").iterdir() if p.is_dir())
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><rect width="200" height="50" fill="#2e90fa"/></svg>'
HOSTILE = '<script>alert(1)</script><img src="http://example.invalid/x.png">'


def _hostile_report() -> Report:
    finding = Finding("evil-rule", Severity.ERROR, HOSTILE, "cause " + HOSTILE, "fix", (Excerpt("logs.txt", HOSTILE, 1),),
                      {"note": HOSTILE, "n": 3})
    return Report(Target("docker", "svc"), [finding], [], [], attachments={"traffic.svg": SVG})


def _bundle_reports() -> str:
    """Every fixture bundle diagnosed, as one namespace-style page."""
    from doctor.bundle import open_bundle
    from doctor.rules.engine import diagnose
    from doctor.rules.loader import load_rules

    rules, reports = load_rules([]), []
    for bundle in BUNDLES:
        with open_bundle(bundle) as evidence:
            reports.append(diagnose(evidence, rules, ()))
    return html.render_many(reports)


def test_html_is_self_contained_and_escaped() -> None:
    text = html.render(_hostile_report())
    assert "<script" not in text and 'src="http' not in text and "<link" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert 'src="data:image/svg+xml;base64,' in text and "Content-Security-Policy" in text


def test_cli_writes_html(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    run = cli("check", str(BUNDLES[0]), "--format", "html", "--output", str(out))
    assert run.code in (0, 1) and out.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_every_bundle_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_bundle_reports(), "utf-8")
    expected = set(re.findall(r'data-rule-id="([^"]+)"', page.read_text("utf-8")))
    assert expected, "the fixtures should give findings"
    dom, log = _chromium(page)
    assert expected <= set(re.findall(r'data-rule-id="([^"]+)"', dom))
    assert "Uncaught" not in log and "CONSOLE" not in log


def test_namespace_page_with_plot_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "ns.html"
    reports = [_hostile_report(), Report(Target("k8s", "ml/deployment/ok"), [], [], [])]
    page.write_text(html.render_many(reports), "utf-8")
    dom, log = _chromium(page)
    assert 'data-rule-id="evil-rule"' in dom and "ml/deployment/ok" in dom
    assert "<img alt=\"requests per second" in dom and "alert(1)" in dom and "<script>alert" not in dom
    assert "Uncaught" not in log and "CONSOLE" not in log
