"""Evidence is data: terminal escapes, XML-invalid characters, Markdown/HTML and workflow commands planted in a log
line, an exception message and the manifest's target reach no output as syntax (generated hostile text)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conftest import FIXTURES

HOSTILE = ("\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[1;1H\x1b[8m\x9b31m\x00\x08\r\u202e "
           "<img src=http://t.example/p.png> ![x](http://t.example/p.png) [click](http://evil.example/) <b>bold</b> "
           "` <img src=http://t.example/q.png> `")  # the backticks try to leave a code span
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """The init-failure bundle whose exception message, and the manifest's target, carry HOSTILE."""
    out = tmp_path / "b"
    shutil.copytree(FIXTURES / "bundles" / "docker-init-failure", out)
    log = next(out.glob("docker/*/logs.txt"))
    text = log.read_text().replace("RuntimeError: FEATURE_STORE_URL is not set", f"RuntimeError: {HOSTILE}")
    log.write_text(text)
    (out / "manifest.yaml").write_text('target: "svc\\n::error ::pwned%0A\\u001b[2J"\n')
    return out


def test_console_shows_controls_escaped(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    for color in ("--no-color", "--color"):
        run = cli("check", str(bundle), color)
        assert run.code == 1
        assert "\\x1b]52;c;ZXZpbA==\\x07" in run.out  # shown, visibly escaped
        text = run.out.replace("\x1b[0m", "")
        assert "\x1b]" not in text and "\x1b[2J" not in text and "\x9b" not in text and "\x07" not in text
        if color == "--no-color":
            assert not RAW_CONTROLS.search(run.out.replace("\n", "").replace("\t", ""))


def test_error_line_shows_controls_escaped(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b" / "config").mkdir(parents=True)
    (tmp_path / "b" / "config" / "x\x1b]52;c;ZXZpbA==\x07\n.json").write_text("{bad")
    run = cli("check", str(tmp_path / "b"))
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1
    assert "\x1b" not in run.err and "\\x1b]52" in run.err


def test_junit_is_well_formed(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", str(bundle), "--format", "junit").out
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuite" and "\\x1b]52" in out


def test_markdown_renders_no_html_image_or_link(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    out = cli("check", str(bundle), "--format", "markdown").out
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<img" not in html and "<b>" not in html and 'href="http://evil.example' not in html
    assert "t.example" in html  # the text is there, as text
    assert not RAW_CONTROLS.search(out.replace("\n", ""))


def test_github_annotations_cannot_start_a_command(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(bundle), "--format", "github")
    report = cli("check", str(bundle), "--format", "json").json()
    lines = run.out.splitlines()
    assert len(lines) == len(report["findings"]) + len(report["collector_errors"]) + 1  # no line added by evidence
    assert all(line.startswith(("::error ", "::warning ", "::notice ", "mldoctor: ")) for line in lines)
    assert "%0A::error ::pwned%250A" in lines[-1]  # the summary line: target escaped as workflow data
    assert not RAW_CONTROLS.search(run.out.replace("\n", ""))


@pytest.mark.parametrize("fmt", ["prometheus", "sarif", "json", "html"])
def test_other_formats_carry_no_raw_control(cli, bundle: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", str(bundle), "--format", fmt).out
    assert not RAW_CONTROLS.search(out.replace("\n", "").replace("\t", "").replace("\r", ""))
