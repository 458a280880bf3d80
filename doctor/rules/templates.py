"""Finding texts and values: jinja2 rendered in a sandbox, with the calculators as the only functions."""

from __future__ import annotations

import functools
from typing import Any

from doctor.errors import RuleError


@functools.lru_cache(maxsize=1)
def environment() -> Any:
    """The one sandboxed environment: no attribute access to internals, no file system, no imports."""
    from jinja2 import Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from doctor import calc

    env = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False, keep_trailing_newline=False)
    env.globals.update(calc.TEMPLATE_FUNCTIONS)
    env.filters.update(calc.TEMPLATE_FILTERS)
    return env


def check_template(text: str, where: str) -> None:
    """RuleError when the template does not parse."""
    from jinja2 import TemplateSyntaxError

    try:
        environment().parse(text)
    except TemplateSyntaxError as err:
        raise RuleError(f"invalid template (line {err.lineno} of the text): {err.message}", where) from None


def check_expression(text: str, where: str) -> None:
    """RuleError when the value expression does not parse."""
    from jinja2 import TemplateSyntaxError

    try:
        environment().compile_expression(text)
    except TemplateSyntaxError as err:
        raise RuleError(f"invalid value expression {text!r}: {err.message}", where) from None


@functools.lru_cache(maxsize=2048)
def _template(text: str) -> Any:
    return environment().from_string(text)


@functools.lru_cache(maxsize=2048)
def _expression(text: str) -> Any:
    return environment().compile_expression(text, undefined_to_none=True)


def render(text: str, context: dict[str, Any]) -> str:
    """The template rendered; a sandbox violation or error becomes a visible marker, never a crash."""
    from jinja2.exceptions import SecurityError, TemplateError

    try:
        return _template(text).render(context).strip()
    except SecurityError as err:
        return f"[template refused by the sandbox: {err}]"
    except (TemplateError, ArithmeticError, TypeError, ValueError) as err:
        return f"[template error: {err}]"


def evaluate(text: str, context: dict[str, Any]) -> Any:
    """A value expression evaluated in the sandbox; None when it fails or is undefined."""
    from jinja2 import Undefined
    from jinja2.exceptions import SecurityError, TemplateError

    try:
        value = _expression(text)(**context)
    except (SecurityError, TemplateError, ArithmeticError, TypeError, ValueError, AttributeError):
        return None
    return None if isinstance(value, Undefined) else value
