"""YAML for untrusted input: safe loading (no Python objects) that also refuses alias bombs and absurd nesting.

`yaml.safe_load` refuses arbitrary Python objects; what it does not refuse is a "billion laughs"
document whose few aliases expand exponentially once anything walks the result (schema validation,
JSON output). The document is composed once (libyaml's C parser when present), the node graph is
checked — each node visited once, so the check is linear — and only then constructed with the safe
constructor. `compose` also returns the node tree, for file:line in messages.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

MAX_ALIASES = 100
MAX_EXPANDED = 1_000_000  # nodes the document would have with every alias expanded (what a walker visits)
MAX_DEPTH = 100


# PyYAML is imported where a YAML text is read, not with this module: a check whose rule files come from the cache
# and whose evidence holds no YAML never reads any (the import was ~11 ms of the check's start, on one core)
@functools.cache
def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def errors() -> type[Exception]:
    """yaml.YAMLError (what reading a malformed text raises), imported when asked: `except yamlsafe.errors():`."""
    import yaml

    return yaml.YAMLError


class YamlRefused(ValueError):
    """A document refused before loading: why, and the line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def compose(text: str, checked: bool = False) -> Any:
    """The checked node tree of a one-document YAML text (None for an empty one). `checked`: this exact text passed
    these checks before, by this code (a rule file's digest in doctor.cache.Verified): composed without them."""
    import yaml

    if not checked:
        _check_depth(text)  # before composing: the C composer recurses and would crash on absurd nesting
    node = yaml.compose(text, Loader=_loader())
    if node is not None and not checked:
        _check(node)
    return node


def _check_depth(text: str) -> None:
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=_loader()):  # the event parser keeps its own stack: no recursion
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check(root: Any) -> None:
    import yaml

    seen: set[int] = set()
    repeats = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            repeats += 1  # an alias: the same node reached again
            if repeats > MAX_ALIASES:
                raise YamlRefused(f"more than {MAX_ALIASES} aliases (a YAML alias bomb?)", node.start_mark.line + 1)
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((part, depth + 1) for pair in node.value for part in pair)
    if repeats:
        _check_expanded(root)


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expanded(root: Any) -> None:
    """Refuse a document whose aliases expand it past MAX_EXPANDED nodes (8 levels of 9 aliases is 9**8).

    Each node's expanded size is computed once (post-order over the shared graph), so this stays linear."""
    size: dict[int, int] = {}
    visiting: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        kids = _children(node)
        if not done and id(node) in visiting:
            raise YamlRefused("an alias inside its own anchor (a recursive document)", node.start_mark.line + 1)
        visiting.add(id(node))
        if done:
            size[id(node)] = total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_EXPANDED:
                raise YamlRefused(f"expands to more than {MAX_EXPANDED} nodes through aliases (a YAML alias bomb?)",
                                  node.start_mark.line + 1)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)


def construct(node: Any) -> Any:
    """Plain Python data from a composed node, with the safe constructor."""
    import yaml

    if node is None:
        return None
    return yaml.SafeLoader("").construct_document(node)


def safe_load(text: str) -> Any:
    """Like `yaml.safe_load`, after refusing alias bombs and deep nesting; raises yaml.YAMLError or YamlRefused."""
    return construct(compose(text))


def duplicate_key(root: Any) -> tuple[str, int] | None:
    """The first mapping key written twice in one mapping (YAML forbids it; a loader silently keeps the last value),
    and the line of its second writing; None when every key is unique."""
    import yaml

    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        return key.value, key.start_mark.line + 1
                    keys.add(key.value)
        stack.extend(_children(node))
    return None

