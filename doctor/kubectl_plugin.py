"""`kubectl mldoctor …`: kubectl-style arguments (`deployment/scorer -n ml`) turned into mldoctor's target forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

# options of check/collect that take a value: the word after them is not the target
_VALUED = {"-n", "--namespace", "--context", "--kubeconfig", "--since", "--config", "--format", "--output", "-o",
           "--fail-on", "--rules", "--ignore"}
_TARGETED = {"check", "collect"}


def _namespace(args: Sequence[str]) -> str | None:
    """The value of the last -n/--namespace given, in any of kubectl's spellings."""
    found = None
    for i, arg in enumerate(args):
        if arg in ("-n", "--namespace") and i + 1 < len(args):
            found = args[i + 1]
        elif match := re.fullmatch(r"(?:--namespace=|-n=?)(.+)", arg):
            found = match.group(1)
    return found


def _target_index(args: Sequence[str]) -> int | None:
    """Where the TARGET word is among a subcommand's arguments."""
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return i
    return None


def to_target(word: str, namespace: str | None) -> str:
    """`deployment/scorer` (or `deploy.apps/scorer`, `po/x`) as `k8s:NS/KIND/NAME`; anything else unchanged."""
    from doctor.collect.k8s import KINDS

    kind, _, name = word.partition("/")
    kind = kind.split(".", 1)[0].lower()
    if not name or "/" in name or kind not in KINDS or word.startswith(("k8s:", "docker:")) or Path(word).exists():
        return word
    return f"k8s:{namespace + '/' if namespace else ''}{KINDS[kind]}/{name}"


def translate(argv: Sequence[str]) -> list[str]:
    """kubectl-style arguments as mldoctor arguments (only the target word of check/collect changes)."""
    args = list(argv)
    if not args or args[0] not in _TARGETED:
        return args
    index = _target_index(args[1:])
    if index is not None:
        args[index + 1] = to_target(args[index + 1], _namespace(args[1:]))
    return args
