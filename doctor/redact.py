"""Secrets removed from what mldoctor shows or writes: env values, connection strings, SAS and bearer
tokens, JWTs, cloud access keys, private keys, passwords in URLs and `*_KEY=` / `password=` settings.

A secret found in text becomes `***REDACTED-xxxxxx***`, where `xxxxxx` is a keyed hash with a key made
fresh for each run: the same secret reads the same all through one report (so a reader can tell that
two lines carry the same key) but cannot be looked up or matched across reports.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
from typing import Any, Callable

MASK = "***REDACTED***"
_RUN_KEY = os.urandom(16)

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CONNECTION_?STRING|CREDENTIAL|SAS|AUTH", re.IGNORECASE)
# Names that match the pattern above but only ever hold paths, ids or switches, kept so rules can read them.
_NOT_SECRET = frozenset({"KEYS_DIR", "AML_APP_INSIGHTS_ENABLED", "AUTH_ENABLED", "TOKEN_AUTH_ENABLED",
                         "AZUREML_AUTH_ENABLED", "PWD"})

# (pattern, group holding the secret): the text around the secret stays readable. Every pattern is linear on
# hostile text: it starts on a literal or a word start, and runs inside it are bounded.
_B64 = r"A-Za-z0-9+/"
_AMP = r"(?:&|\\u0026|%26|&amp;)"  # `&` as written, JSON-escaped, URL-encoded or as an HTML entity
_SECRET_TEXT: tuple[tuple[str, int], ...] = (
    # PEM and PGP private key blocks, also cut short (no END line): the body as far as it looks like one
    (r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,65536}?-----END (?:[A-Z0-9]+ ){0,4}"
     r"PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,.\-]{0,65536})", 0),
    (r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|Password|Pwd)=([^;\s\"'&\\]+)", 1),
    (r"(?i)(?:^|[?&;\s\"'/]|" + _AMP + r")sig(?:=|%3D)([^&\s\"';\\<]+)", 1),
    (r"(?i)[?&](?:code|key|api[-_]?key|token|access_token|signature|password|secret|client_secret)=([^&\s\"'#\\]{4,})", 1),
    (r"(?i)\bBearer\s+([A-Za-z0-9\-._~+/]+=*)", 1),
    (r"(?i)\bBasic\s+([A-Za-z0-9+/]{8,}=*)", 1),
    (r"\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})", 1),
    (r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b", 1),
    (r"(?i)aws_secret_access_key\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{40})", 1),
    # a bare 40-character AWS secret access key: mixed case and a digit (a git SHA is lower-case hex)
    (r"(?<![" + _B64 + r"=])(?=[" + _B64 + r"]{0,39}[a-z])(?=[" + _B64 + r"]{0,39}[A-Z])(?=[" + _B64 + r"]{0,39}[0-9])"
     r"([" + _B64 + r"]{40})(?![" + _B64 + r"=])", 1),
    # a bare Azure storage account key: 64 bytes in base64, 88 characters ending `==`
    (r"(?<![" + _B64 + r"=])([" + _B64 + r"]{86}==)(?![" + _B64 + r"=])", 1),
    # GitHub tokens (classic, OAuth, app, refresh; fine-grained), also as the user of a URL
    (r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255})", 1),
    # OpenAI / Anthropic style API keys, Slack tokens and webhook URLs
    (r"(?<![A-Za-z0-9_-])(sk-(?:[A-Za-z0-9]{1,16}-){0,3}[A-Za-z0-9_-]{20,255})", 1),
    (r"\b(xox[abposr]-[A-Za-z0-9-]{10,255})", 1),
    (r"(?i)hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]{8,255})", 1),
    # the password of scheme://user:password@host, up to the last `@` (Azure Redis keys hold `/`, `+`; some `@`)
    (r"://[^:/@\s\"']{0,256}:([^\s\"']{1,256})@(?=[^@\s\"']{0,256}(?:[\s\"']|$))", 1),
    (r"(?i)\b[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CONNECTION_STRING)\s*[=:]\s*[\"']?([^\s\"',;}\\]{6,})", 1),
    # a JSON field named like a secret, also inside a JSON-escaped string (`{\"password\": \"...\"}`)
    (r"(?i)\"(?:primaryKey|secondaryKey|password|apiKey|api_key|accessToken|clientSecret|"
     r"[A-Za-z0-9_-]{0,64}(?:secret|token|password|passwd|credential|accesskey|access_key|apikey|api_key))"
     r"\\{0,2}\"\s*:\s*\\{0,2}\"([^\"\\]{4,})", 1),
)
# A secret wrapped onto the next line: that line's leading run, when it looks like the rest of a key.
_WRAPPED = r"(\*\*\*REDACTED-[0-9a-f]{6}\*\*\*[;\"']?\r?\n[ \t]{0,64})([A-Za-z0-9+/%_-]{4,1024}={0,2})(?=[;&\"'\s]|$)"
_TEXT = [(re.compile(p), g) for p, g in _SECRET_TEXT]
_BYTES = [(re.compile(p.encode()), g) for p, g in _SECRET_TEXT]
_WRAPPED_TEXT, _WRAPPED_BYTES = re.compile(_WRAPPED), re.compile(_WRAPPED.encode())
_BYTE_HINTS = (b"key", b"sig", b"bearer", b"basic ", b"://", b"eyj", b"akia", b"asia", b"secret", b"token",
               b"password", b"pwd=", b"private", b"gh", b"sk-", b"xox", b"slack", b"==", b"code=")


def placeholder(secret: str | bytes) -> str:
    """The stable, per-run placeholder of one secret."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return f"***REDACTED-{hmac.new(_RUN_KEY, raw, hashlib.sha256).hexdigest()[:6]}***"


def _replacer(group: int, as_bytes: bool) -> Callable[[re.Match[Any]], Any]:
    def replace(match: re.Match[Any]) -> Any:
        whole, secret = match.group(0), match.group(group)
        if not secret or "REDACTED" in (secret.decode("utf-8", "replace") if as_bytes else secret):
            return whole
        start, end = match.start(group) - match.start(0), match.end(group) - match.start(0)
        mask = placeholder(secret)
        return whole[:start] + (mask.encode() if as_bytes else mask) + whole[end:]

    return replace


_TEXT_SUBS = [(p, _replacer(g, False)) for p, g in _TEXT]
_BYTE_SUBS = [(p, _replacer(g, True)) for p, g in _BYTES]


def is_secret_name(name: str) -> bool:
    """True when an environment variable's name says its value is a secret."""
    return name.upper() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


def _wrapped(as_bytes: bool) -> Callable[[re.Match[Any]], Any]:
    def replace(match: re.Match[Any]) -> Any:
        rest = match.group(2)
        plain = rest.decode("ascii", "replace") if as_bytes else rest
        if not (len(plain) >= 16 or any(c.isdigit() or c in "+/=%" for c in plain)):
            return match.group(0)  # an ordinary word on the next line ("Traceback", "ERROR")
        mask = placeholder(rest)
        return match.group(1) + (mask.encode() if as_bytes else mask)

    return replace


_WRAPPED_TEXT_SUB, _WRAPPED_BYTES_SUB = _wrapped(False), _wrapped(True)


def redact_text(text: str) -> str:
    """`text` with every secret-looking value replaced by its placeholder."""
    for pattern, repl in _TEXT_SUBS:
        text = pattern.sub(repl, text)
    if "\n" in text and "REDACTED-" in text:
        text = _WRAPPED_TEXT.sub(_WRAPPED_TEXT_SUB, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """Like `redact_text` for raw log bytes; cheap when nothing secret-looking is present."""
    lowered = data.lower()
    if not any(hint in lowered for hint in _BYTE_HINTS):
        return data
    for pattern, repl in _BYTE_SUBS:
        data = pattern.sub(repl, data)
    if b"REDACTED-" in data:
        data = _WRAPPED_BYTES.sub(_WRAPPED_BYTES_SUB, data)
    return data


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
    mask_secret_names(config.get("Labels") or {})
    return redact_strings(out)  # type: ignore[no-any-return]  # command line, args, other labels: by content


def mask_secret_names(mapping: dict[str, Any]) -> None:
    """Mask, in place, every non-empty value whose key names a secret (container labels, event attributes)."""
    for name, value in list(mapping.items()):
        if is_secret_name(name) and value:
            mapping[name] = MASK


def redact_strings(obj: Any) -> Any:
    """A copy of a JSON-like value with every string passed through `redact_text` (annotations, args, messages)."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, (list, tuple)):
        return [redact_strings(v) for v in obj]
    if isinstance(obj, dict):
        return {k: redact_strings(v) for k, v in obj.items()}
    return obj
