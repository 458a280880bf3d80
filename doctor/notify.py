"""`--notify URL`: post the report to the team's chat (a Slack or Teams incoming webhook).

One message per run, one section per root cause (doctor.report.chat). The payload is built from the
report, which is already redacted, and passed through the redactor once more as a whole. A webhook URL is
itself a secret: it is never printed; messages name only its host. With a state file (`--notify-state`,
e.g. on a CronJob's volume or a mounted ConfigMap copy) nothing is posted when the root causes are the same as
at the last post; a recovery (failing -> healthy) is posted once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from doctor.errors import InputError
from doctor.findings import Report
from doctor.redact import redact_strings

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Where and how to post: the webhook, the payload format, retries, the state file."""

    url: str
    fmt: str  # slack | teams
    state: Path | None = None
    timeout_s: float = 10.0
    attempts: int = 4
    backoff_s: float = 1.0


def settings_for(url: str, fmt: str | None, state: str | None) -> NotifySettings:
    """Settings from the command line; the format guessed from the webhook's host when not given."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError("not an http(s) webhook URL", "--notify")
    chosen = fmt or guess_format(parts.hostname)
    if chosen is None:
        raise InputError(f"cannot tell the chat from the host {parts.hostname}: add --notify-format slack|teams",
                         "--notify")
    return NotifySettings(url, chosen, Path(state) if state else None)


def guess_format(host: str) -> str | None:
    """`slack` for Slack's webhook host, `teams` for Microsoft's (Office 365 connectors, Power Automate)."""
    host = host.lower()
    if host == "hooks.slack.com":
        return "slack"
    if host.endswith((".webhook.office.com", ".logic.azure.com", ".powerplatform.com")):
        return "teams"
    return None


def payload(reports: Sequence[Report], fmt: str) -> list[dict[str, Any]]:
    """One chat message per report, redacted once more as a whole."""
    from doctor.report import chat

    build = chat.slack_payload if fmt == "slack" else chat.teams_payload
    return [redact_strings(build(r)) for r in reports]


def fingerprint(report: Report) -> str:
    """What makes a run worth a new message: the target, its status and its root causes (not counts or times)."""
    from doctor.report.chat import root_causes

    roots = sorted((r.finding.rule_id, r.finding.severity.value) for r in root_causes(report))
    text = json.dumps([report.target.kind, report.target.name, report.status, roots])
    return hashlib.sha256(text.encode()).hexdigest()


def notify(reports: Sequence[Report], settings: NotifySettings,
           send: Callable[[str, bytes, float], int] | None = None, sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Post a message for each report whose root causes changed since the last post; lines to tell the user."""
    state = _load_state(settings.state)
    said = []
    for report, message in zip(reports, payload(reports, settings.fmt)):
        key = f"{report.target.kind}:{report.target.name}"
        mark = fingerprint(report)
        if state.get(key) == mark or (key not in state and report.status == "healthy"):
            said.append(f"notify: {key} unchanged since the last message, nothing posted")
            continue
        outcome = post(settings, json.dumps(message).encode(), send or _send, sleep)
        said.append(f"notify: {key}: {outcome}")
        if outcome.startswith("posted"):
            state[key] = mark
    _save_state(settings.state, state)
    return said


def post(settings: NotifySettings, body: bytes, send: Callable[[str, bytes, float], int],
         sleep: Callable[[float], None]) -> str:
    """POST with a timeout, retrying connection errors and 408/429/5xx with backoff (Retry-After honoured)."""
    host = urlsplit(settings.url).hostname
    last = ""
    for attempt in range(1, settings.attempts + 1):
        try:
            status = send(settings.url, body, settings.timeout_s)
        except _RetryAfter as wait:
            last, delay = f"HTTP {wait.status}", min(wait.seconds, MAX_RETRY_AFTER_S)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            last, delay = f"{type(err).__name__}", settings.backoff_s * 2 ** (attempt - 1)
        else:
            if 200 <= status < 300:
                return f"posted to {host}" + (f" after {attempt} attempts" if attempt > 1 else "")
            if status not in RETRYABLE:
                return f"not posted: {host} answered HTTP {status}"
            last, delay = f"HTTP {status}", settings.backoff_s * 2 ** (attempt - 1)
        if attempt < settings.attempts:
            sleep(delay)
    return f"not posted: {host} failed {settings.attempts} times (last: {last})"


class _RetryAfter(Exception):
    def __init__(self, status: int, seconds: float) -> None:
        super().__init__(status)
        self.status, self.seconds = status, seconds


def _send(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "mldoctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the user's webhook
            return int(answer.status)
    except urllib.error.HTTPError as err:
        retry_after = err.headers.get("Retry-After") if err.headers else None
        if err.code in RETRYABLE and retry_after and retry_after.strip().isdigit():
            raise _RetryAfter(err.code, float(retry_after)) from None
        return int(err.code)


def _load_state(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"not a readable notify state file ({type(err).__name__})", str(path)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError("not a notify state file (a JSON object of fingerprints)", str(path))
    return data


def _save_state(path: Path | None, state: dict[str, str]) -> None:
    """Written atomically: a run killed half-way leaves the old state, never half a file."""
    if path is None:
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
