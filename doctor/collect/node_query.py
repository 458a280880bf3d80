"""A pasted `kubectl get nodes -l KEY=VALUE` and its answer: which label was looked for, and whether any node has it.

People paste it under a `FailedScheduling ... didn't match node selector` to show that no node carries the label
their pod selects. The paste splitter drops command lines (they only name what follows), so this reads the text
itself: the command, then either `No resources found` or the table of the nodes that matched.
"""

from __future__ import annotations

import re

from doctor.evidence import ConfigFact

_QUERY = re.compile(r"^[^\n]{0,200}?\b(?:kubectl|oc)\s+get\s+(?:nodes?|no)\b[^\n]{0,400}?\s(?:-l|--selector)[ =]"
                    r"['\"]?([\w./-]{1,253}(?:!?=[\w./-]{0,63})?(?:,[\w./-]{1,253}(?:!?=[\w./-]{0,63})?){0,10})",
                    re.MULTILINE)
_NONE = re.compile(r"^No resources found", re.IGNORECASE)
_HEADER = re.compile(r"^NAME\s+STATUS\b")
_PROMPT = re.compile(r"^\S*[$#>] ")
MAX_ROWS = 10000


def read_node_queries(text: str, label: str) -> list[ConfigFact]:
    """One `k8s-node-query` fact per pasted query: `selector`, `labels` ({key: value}) and `nodes_found` (None when
    the answer was not pasted)."""
    facts = []
    for match in _QUERY.finditer(text):
        selector = match.group(1)
        labels = dict(part.partition("=")[::2] for part in selector.split(",") if "!=" not in part)
        values = {"selector": selector, "labels": labels, "nodes_found": _found(text[match.end():])}
        facts.append(ConfigFact(label, "k8s-node-query", values))
    return facts


def _found(after: str) -> int | None:
    """How many nodes the answer lists: 0 for `No resources found`, None when no answer follows the command."""
    lines = after.split("\n", MAX_ROWS + 2)[1:MAX_ROWS + 2]
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _NONE.match(line.strip()):
            return 0
        if _HEADER.match(line.strip()):
            return _rows(lines[i + 1:])
        return None
    return None


def _rows(lines: list[str]) -> int:
    """The rows of the nodes table: up to a blank line or the next command line (a prompt)."""
    count = 0
    for row in lines:
        if not row.strip() or _PROMPT.match(row):
            break
        count += 1
    return count
