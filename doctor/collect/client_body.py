"""The body of a failed scoring answer as a client printed it, and the error message it carries.

Where clients print the body: azure-core and the v1 SDK's `service.run` after `Content: ` (a Python bytes literal
in v1: `Content: b"run() got an unexpected keyword argument 'method'"`); the Azure ML studio's Consume sample (urllib)
after `The request failed with status code: 502` and the headers it prints; `curl -i` after the headers and the
blank line. What the body says depends on the server: Azure ML's inference server answers JSON `{"message": ...}`
(for a `run()` exception only the generic "An unexpected error occurred in scoring script"), older v1 images the
exception text itself, FastAPI-based servers `{"detail": ...}`, Azure's front end `{"error": {"message": ...}}`.
"""

from __future__ import annotations

import json
import re

_CONTENT = re.compile(r"^Content: ([^\n]{1,2000})$", re.MULTILINE)
# A line after which the client printed headers, then the body.
_STATUS = re.compile(r"^[<\s]{0,4}HTTP/\d(?:\.\d)? \d{3}\b|^The request failed with status code: \d{3}")
_HEADER = re.compile(r"^[<\s]{0,4}[A-Za-z][A-Za-z0-9-]{0,80}:(?:\s|$)")
_CURL_META = re.compile(r"^(?:[*<>]|[{}] \[\d+ bytes data\])")  # `curl -v` info, header and progress lines
# zsh's mark after output that did not end with a newline (its PROMPT_EOL_MARK, `%`), as after the body curl prints
# last (kserve/kserve#1129 as posted: `request timeout% `); not a number's percent sign
_ZSH_EOL = re.compile(r"(?<=[^\d\s%])%$")
_BYTES_LITERAL = re.compile(r"""^b(["'])(.*)\1$""", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
# The inference server's own words for a failure whose cause is only in the container log (AMLSRV routes.py).
GENERIC = ("An unexpected error occurred in scoring script", "An unexpected internal error occurred")
MAX_MESSAGE = 400


def body_of(text: str) -> str | None:
    """The first answer body the output shows (`Content: ...`, or the first line after a status line and its headers)."""
    content = _CONTENT.search(text)
    if content:
        return content.group(1).strip()
    in_answer = after_headers = False
    lines = text.splitlines()
    last = max((i for i, raw in enumerate(lines) if raw.strip()), default=-1)
    for i, raw in enumerate(lines):
        line = raw.strip()
        if _STATUS.match(line):
            in_answer, after_headers = True, False
        elif not in_answer or _CURL_META.match(line):
            continue
        elif not line:
            after_headers = True
        elif after_headers or not _HEADER.match(line):
            return _ZSH_EOL.sub("", line) if i == last else line
    return None


def message_of(body: str | None) -> str | None:
    """The error message a body carries: a bytes literal's text, JSON `message` / `error.message` / `detail`, or
    the plain text; None for an HTML page or an empty body."""
    text = _unquote((body or "").strip())
    if text.startswith(("{", '"')):
        text = _json_message(text) or text
    if not text or text.startswith("<"):
        return None
    return text[:MAX_MESSAGE]


def is_generic(message: str | None) -> bool:
    """True when the message only says that the cause is in the server's log."""
    return bool(message) and any(words in (message or "") for words in GENERIC)


def _unquote(text: str) -> str:
    """The text of a Python bytes literal (`b"..."`, as `print(response.content)` shows it)."""
    match = _BYTES_LITERAL.match(text)
    if not match:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), match.group(2))


def _json_message(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    for _ in range(3):  # `{"error": {"message": ...}}`, a JSON string holding JSON
        if isinstance(data, str):
            return data
        if not isinstance(data, dict):
            return None
        data = next((data[key] for key in ("message", "Message", "error", "detail") if data.get(key)), None)
    return data if isinstance(data, str) else None
