"""YAML for untrusted input: `yaml.safe_load`, after refusing alias bombs and absurd nesting.

`safe_load` already refuses arbitrary Python objects; what it does not refuse is a "billion laughs"
document whose few aliases expand exponentially once anything walks the result (schema validation,
JSON output). Counting alias and nesting events first is linear in the text.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIASES = 100
MAX_DEPTH = 100


class YamlRefused(ValueError):
    """A document refused before loading: why, and the line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def check_events(text: str) -> None:
    """YamlRefused when the document has too many aliases or nests too deeply."""
    aliases = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlRefused(f"more than {MAX_ALIASES} aliases (a YAML alias bomb?)", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)` after `check_events`; raises yaml.YAMLError or YamlRefused."""
    check_events(text)
    return yaml.safe_load(text)
