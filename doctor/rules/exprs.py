"""Rule predicates in CEL (the Common Expression Language Kubernetes uses for the same job).

CEL cannot loop forever, call out or touch files; it is compiled once per expression.
"""

from __future__ import annotations

import functools
import glob
import importlib.machinery
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from doctor.errors import RuleError


@dataclass(frozen=True)
class EvalProblem:
    """An expression that did not evaluate: `missing` when only a field the evidence lacks was read."""

    expr: str
    message: str
    missing: bool


@functools.lru_cache(maxsize=4096)
def _compiled(expr: str) -> Any:
    return _cel().compile(expr)


@functools.cache
def _cel() -> Any:
    """The CEL extension module, loaded on first use and without the `cel` package's REPL (0.13 s of imports)."""
    if "cel.cel" in sys.modules:
        return sys.modules["cel.cel"]
    spec = importlib.util.find_spec("cel")
    found = glob.glob(os.path.join(spec.submodule_search_locations[0], "cel.*.so")) if spec and spec.submodule_search_locations else []
    if not found:
        import cel  # an unusual install: the plain import works, only slower

        return cel
    loader = importlib.machinery.ExtensionFileLoader("cel.cel", found[0])
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("cel.cel", found[0], loader=loader))  # type: ignore[arg-type]
    loader.exec_module(module)
    sys.modules["cel.cel"] = module  # a later `import cel` re-uses it
    return module


MAX_EXPR_CHARS = 4096
MAX_MACRO_NESTING = 1  # `.all(x, …)` inside another `.all(…)` multiplies: 40 items 4 deep ran for minutes
_TOKENS = re.compile(r"""\"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\.\s*(?:all|exists_one|exists|map|filter)\s*\(|[()]""")


def macro_nesting(expr: str) -> int:
    """How deep comprehension macros (all, exists, exists_one, map, filter) nest in the expression."""
    stack: list[bool] = []
    deepest = 0
    for token in _TOKENS.findall(expr):
        if token == ")":
            if stack:
                stack.pop()
        elif token.endswith("("):
            stack.append(token != "(")
            deepest = max(deepest, sum(stack))
    return deepest


def check(expr: str, where: str) -> None:
    """RuleError naming `where` when the expression does not parse, is too long or nests macros (unbounded work)."""
    if len(expr) > MAX_EXPR_CHARS:
        raise RuleError(f"CEL expression longer than {MAX_EXPR_CHARS} characters", where)
    if macro_nesting(expr) > MAX_MACRO_NESTING:
        raise RuleError(f"CEL expression {expr[:120]!r} nests comprehension macros (all/exists/map/filter inside "
                        "another): its work multiplies with the evidence; use one macro at a time", where)
    try:
        _compiled(expr)
    except Exception as err:  # the binding raises ValueError with the position in the text
        first = str(err).splitlines()[0]
        raise RuleError(f"invalid CEL expression {expr!r}: {first}", where) from None


def holds(expr: str, variables: dict[str, Any], problems: list[EvalProblem] | None = None) -> bool:
    """True when the expression evaluates to true. An error counts as false and is added to `problems`:
    a field the evidence lacks (normal in partial evidence) as `missing`, anything else (a type error, an
    unknown function, a division by zero) as a real error in the rule."""
    try:
        return _compiled(expr).execute(variables) is True
    except KeyError as err:  # the binding raises KeyError for a map key that is not there
        _note(problems, EvalProblem(expr, f"no field {err}", True))
    except Exception as err:  # noqa: BLE001 - TypeError, RuntimeError, ZeroDivisionError, ... from the binding
        _note(problems, EvalProblem(expr, _first_sentence(str(err)) or type(err).__name__, False))
    return False


def _first_sentence(text: str) -> str:
    line = (text.splitlines() or [""])[0]
    return line.split(". ")[0].rstrip(".")


def _note(problems: list[EvalProblem] | None, problem: EvalProblem) -> None:
    if problems is not None and problem not in problems:
        problems.append(problem)
