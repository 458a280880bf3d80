"""Finding texts and values: jinja2 rendered in a sandbox, with the calculators as the only functions."""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

from doctor.errors import RuleError


MAX_RANGE = 10_000  # `range()` in a rule template
MAX_PRODUCT = 100_000  # items or characters `*` may make; `**` exponents above MAX_POWER are refused
MAX_POWER = 64
MAX_OUTPUT = 64 * 1024  # characters a rendered text may have; the rest is cut (rendering stops there)


@functools.lru_cache(maxsize=1)
def environment() -> Any:
    """The one sandboxed environment: no attribute access to internals, no file system, no imports; `*`, `**`
    and `range` bounded (loops nesting and macros are refused when a rule loads, see `check_template`)."""
    from jinja2 import Undefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from doctor import calc, serving_facts

    class Bounded(ImmutableSandboxedEnvironment):  # type: ignore[misc]
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
                raise SecurityError(f"exponent over {MAX_POWER}")
            if operator == "*" and _product_size(left, right) > MAX_PRODUCT:
                raise SecurityError(f"`*` would make more than {MAX_PRODUCT} items")
            return super().call_binop(context, operator, left, right)

    def bounded_range(*args: int) -> range:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise SecurityError(f"range over {MAX_RANGE} items")
        return numbers

    env = Bounded(undefined=Undefined, autoescape=False, keep_trailing_newline=False, optimized=False)
    env.globals["range"] = bounded_range
    env.globals.update(calc.TEMPLATE_FUNCTIONS)
    env.globals.update(serving_facts.TEMPLATE_FUNCTIONS)
    env.filters.update(calc.TEMPLATE_FILTERS)
    return env


def _product_size(left: Any, right: Any) -> int:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            return len(seq) * times
    return 0


def check_template(text: str, where: str) -> None:
    """RuleError when the template does not parse, nests loops or defines macros (unbounded work)."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = environment().parse(text)
    except TemplateSyntaxError as err:
        raise RuleError(f"invalid template (line {err.lineno} of the text): {err.message}", where) from None
    if any(True for _ in tree.find_all((nodes.Macro, nodes.CallBlock))):
        raise RuleError("macros are not allowed in rule templates (a macro can call itself for ever)", where)
    for loop in tree.find_all(nodes.For):
        if any(True for _ in loop.find_all(nodes.For)):
            raise RuleError(f"a loop inside a loop (line {loop.lineno} of the text): rule templates loop one level "
                            "deep, so their work stays proportional to the evidence", where)


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


def prepare(found: tuple[list[str], list[str]]) -> None:
    """Compile templates and value expressions (`found`: both lists) before they are needed, e.g. while the check
    waits for something else; one that does not compile is left for its use to report."""
    environment()  # jinja2 imported, the sandbox made: even when no rule holds yet
    for step in preparing(found):
        step()


def preparing(found: tuple[list[str], list[str]]) -> Iterator[Callable[[], None]]:
    """`prepare` as steps, one per text: a caller can stop between two."""
    texts, values = found
    for compile_one, items in ((_template, texts), (_expression, values)):
        for text in items:
            yield functools.partial(_compiled, compile_one, text)


def _compiled(compile_one: Callable[[str], Any], text: str) -> None:
    try:
        compile_one(text)
    except Exception:  # noqa: BLE001 - its use compiles it again and reports what is wrong
        pass


def render(text: str, context: dict[str, Any]) -> str:
    """The template rendered; a sandbox violation or error becomes a visible marker, never a crash."""
    from jinja2.exceptions import SecurityError, TemplateError

    try:
        out, size = [], 0
        for piece in _template(text).generate(context):  # stops rendering once the text is long enough
            out.append(piece[:MAX_OUTPUT - size])
            size += len(out[-1])
            if size >= MAX_OUTPUT:
                out.append(" [cut: the text is longer than mldoctor shows]")
                break
        return "".join(out).strip()
    except SecurityError as err:
        return f"[template refused by the sandbox: {err}]"
    except (TemplateError, ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as err:
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
