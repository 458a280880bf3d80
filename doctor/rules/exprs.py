"""Rule predicates in CEL (the Common Expression Language Kubernetes uses for the same job).

CEL cannot loop forever, call out or touch files; it is compiled once per expression.
"""

from __future__ import annotations

import functools
from typing import Any

from doctor.errors import RuleError


@functools.lru_cache(maxsize=4096)
def _compiled(expr: str) -> Any:
    import cel  # lazily: only checks that use predicates pay for it

    return cel.compile(expr)


def check(expr: str, where: str) -> None:
    """RuleError naming `where` when the expression does not parse."""
    try:
        _compiled(expr)
    except Exception as err:  # the binding raises ValueError with the position in the text
        first = str(err).splitlines()[0]
        raise RuleError(f"invalid CEL expression {expr!r}: {first}", where) from None


def holds(expr: str, variables: dict[str, Any]) -> bool:
    """True when the expression evaluates to true; a missing field or type error counts as false."""
    try:
        return _compiled(expr).execute(variables) is True
    except Exception:  # noqa: BLE001 - absent fields are normal in partial evidence
        return False
