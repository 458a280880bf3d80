"""One setting written into a deployment file's text: the value's own characters replaced in place (comments,
order and layout kept), or the missing key added under its nearest existing parent. The file is located with
the safe YAML composer (JSON is read the same way), never constructed as Python objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from doctor import yamlsafe


class EditError(ValueError):
    """The change cannot be written mechanically into this file (say why)."""


@dataclass(frozen=True, slots=True)
class Path:
    """A location in a document: mapping keys and list indexes, e.g. containers.0.resources."""

    parts: tuple[str | int, ...]

    @classmethod
    def parse(cls, dotted: str) -> "Path":
        """`a.b.0.c` → ('a', 'b', 0, 'c')."""
        return cls(tuple(int(p) if p.isdigit() else p for p in dotted.split(".")))

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


def set_value(text: str, path: Path, value: Any) -> str:
    """`text` with the value at `path` set to `value`; EditError when it cannot be done mechanically."""
    try:
        root = yamlsafe.compose(text)
    except (yaml.YAMLError, yamlsafe.YamlRefused) as err:
        raise EditError(f"not readable as YAML/JSON ({type(err).__name__})") from None
    if not isinstance(root, yaml.MappingNode):
        raise EditError("the document is not a mapping")
    is_json = text.lstrip().startswith("{")
    node, depth = root, 0
    for depth, part in enumerate(path.parts):
        child = _child(node, part)
        if child is None:
            return _insert(text, node, path.parts[depth:], value, is_json)
        node = child
    if not isinstance(node, yaml.ScalarNode):
        raise EditError(f"{path} holds a {type(node).__name__.removesuffix('Node').lower()}, not a single value")
    return _replace(text, node, _scalar(value, is_json, node.style))


def _child(node: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return node.value[part] if isinstance(node, yaml.SequenceNode) and part < len(node.value) else None
    if not isinstance(node, yaml.MappingNode):
        raise EditError(f"expected a mapping at {part!r}")
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)


def _offset(text: str, mark: Any) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: mark.line]) + mark.column


def _replace(text: str, node: Any, new: str) -> str:
    start, end = _offset(text, node.start_mark), _offset(text, node.end_mark)
    return text[:start] + new + text[end:]


def _scalar(value: Any, is_json: bool, style: str | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if is_json or style == '"':
        return json.dumps(str(value))
    return str(value) if _plain_ok(str(value)) else json.dumps(str(value))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _plain_ok(text: str) -> bool:
    try:
        return yaml.safe_load(text) == text and ":" not in text and "#" not in text
    except yaml.YAMLError:
        return False


def _insert(text: str, parent: Any, missing: tuple[str | int, ...], value: Any, is_json: bool) -> str:
    """Add the missing keys under `parent` (a block mapping in YAML; a JSON object rewritten)."""
    if any(isinstance(p, int) for p in missing):
        raise EditError("a list item that does not exist cannot be added mechanically")
    if is_json:
        return _insert_json(text, parent, missing, value)
    if not isinstance(parent, yaml.MappingNode) or parent.flow_style:
        raise EditError("the parent is not a block mapping")
    if parent.value:
        key = parent.value[0][0]
        indent, after = key.start_mark.column, parent.value[-1][1].end_mark
    else:
        raise EditError("the parent mapping is empty")
    lines = []
    for depth, part in enumerate(missing):
        pad = " " * (indent + 2 * depth)
        if depth == len(missing) - 1:
            lines.append(f"{pad}{part}: {_scalar(value, False)}")
        else:
            lines.append(f"{pad}{part}:")
    at = _offset(text, after)
    if after.column == 0:  # the block ended with its last line's newline
        return text[:at] + "\n".join(lines) + "\n" + text[at:]
    return text[:at] + "\n" + "\n".join(lines) + text[at:]


def _insert_json(text: str, parent: Any, missing: tuple[str | int, ...], value: Any) -> str:
    """A new member written before the object's closing brace, in the file's own indentation."""
    end = _offset(text, parent.end_mark) - 1  # the closing brace
    if text[end] != "}":
        raise EditError("the JSON object around the setting is not where it should be")
    nested: Any = value
    for part in reversed(missing[1:]):
        nested = {str(part): nested}
    indent = _json_indent(text)
    head = text[:end].rstrip()
    if indent and parent.start_mark.line != parent.end_mark.line:
        line_start = text.rfind("\n", 0, _offset(text, parent.start_mark)) + 1
        base = len(text[line_start:]) - len(text[line_start:].lstrip())
        pad = " " * (base + indent)
        member = f'"{missing[0]}": ' + json.dumps(nested, indent=indent).replace("\n", "\n" + pad)
        sep = "" if head.endswith("{") else ","
        return head + sep + "\n" + pad + member + "\n" + " " * base + text[end:]
    sep = "" if head.endswith("{") else ", "
    return head + sep + f'"{missing[0]}": ' + json.dumps(nested) + text[end:]


def _json_indent(text: str) -> int | None:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip()
        if stripped:
            return len(line) - len(stripped) or None
    return None


def append_item(text: str, path: Path, item: str) -> str:
    """`text` with `item` added at the end of the block list at `path` (a conda file's `pip:` list)."""
    root = yamlsafe.compose(text)
    node = root
    for part in path.parts:
        node = _child(node, part) if node is not None else None
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        raise EditError(f"{path} is not a block list with items")
    first, last = node.value[0], node.value[-1]
    indent = first.start_mark.column - 2
    at = _offset(text, last.end_mark)
    line = " " * indent + "- " + item
    return text[:at] + ("" if last.end_mark.column == 0 else "\n") + line + ("\n" if last.end_mark.column == 0 else "") + text[at:]


def region(old: str, new: str) -> tuple[int, int, int, int, str]:
    """The one span `new` changed in `old`: 1-based start line/column, end line/column (exclusive), new text."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1

    def where(offset: int) -> tuple[int, int]:
        line = old.count("\n", 0, offset) + 1
        return line, offset - (old.rfind("\n", 0, offset) + 1) + 1

    (l1, c1), (l2, c2) = where(start), where(end_old)
    return l1, c1, l2, c2, new[start:end_new]
