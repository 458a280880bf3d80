"""Secrets removed from what mldoctor shows or writes: env values, connection strings, SAS and bearer tokens."""

from __future__ import annotations

import copy
import re
from typing import Any

MASK = "***REDACTED***"

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CONNECTION_?STRING|CREDENTIAL|SAS", re.IGNORECASE)
# Names that match the pattern above but only ever hold paths or ids, kept so rules can read them.
_NOT_SECRET = frozenset({"KEYS_DIR", "AML_APP_INSIGHTS_ENABLED"})

_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(AccountKey=)[^;\s\"']+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(SharedAccessKey=)[^;\s\"']+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"((?:^|[?&;\s\"'])sig=)[^&\s\"']+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(\bAuthorization:\s*Basic\s+)[A-Za-z0-9+/]+=*", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+(@)"), r"\1" + MASK + r"\2"),
)
# Literal markers looked up with bytes.find (fast); only lines holding one go through the regexes.
_BYTE_HINTS = (b"AccountKey=", b"accountkey=", b"ACCOUNTKEY=", b"AccessKey=", b"accesskey=", b"sig=", b"SIG=",
               b"Bearer ", b"bearer ", b"BEARER ", b"Basic ", b"basic ", b"://")


def is_secret_name(name: str) -> bool:
    """True when an environment variable's name says its value is a secret."""
    return name.upper() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


def redact_text(text: str) -> str:
    """`text` with connection-string keys, SAS signatures, bearer tokens and URL passwords masked."""
    for pattern, repl in _VALUE_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """Like `redact_text` for a block of raw log lines; cheap when nothing secret-looking is present."""
    spans = _hint_lines(data)
    if not spans:
        return data
    out, pos = [], 0
    for start, end in spans:
        out.append(data[pos:start])
        out.append(redact_text(data[start:end].decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"))
        pos = end
    out.append(data[pos:])
    return b"".join(out)


def _hint_lines(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every line that holds a secret marker, sorted and distinct."""
    spans: set[tuple[int, int]] = set()
    for hint in _BYTE_HINTS:
        at = data.find(hint)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            spans.add((start, end))
            at = data.find(hint, end)
    return sorted(spans)


def redact_env_item(item: str) -> str:
    """One `NAME=value` entry with its value masked when the name or the value looks secret."""
    name, sep, value = item.partition("=")
    if not sep:
        return item
    if is_secret_name(name) and value:
        return f"{name}={MASK}"
    return f"{name}={redact_text(value)}"


def redact_env(items: list[str] | None) -> list[str]:
    """A Docker `Config.Env` list redacted entry by entry."""
    return [redact_env_item(str(item)) for item in items or []]


def redact_inspect(inspect: dict[str, Any]) -> dict[str, Any]:
    """A copy of a `docker inspect` object whose env, command line and labels hold no secrets."""
    out = copy.deepcopy(inspect)
    config = out.get("Config") or {}
    if "Env" in config:
        config["Env"] = redact_env(config.get("Env"))
    for key in ("Cmd", "Entrypoint"):
        if isinstance(config.get(key), list):
            config[key] = [redact_text(str(arg)) for arg in config[key]]
    if isinstance(out.get("Args"), list):
        out["Args"] = [redact_text(str(arg)) for arg in out["Args"]]
    labels = config.get("Labels") or {}
    for name, value in list(labels.items()):
        labels[name] = MASK if is_secret_name(name) and value else redact_text(str(value))
    return out
