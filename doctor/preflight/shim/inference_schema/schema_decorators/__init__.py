"""`@input_schema` / `@output_schema`: preflight passes the sample's JSON fields as keyword arguments."""

import functools
from typing import Any, Callable


def input_schema(param_name: str, param_type: Any, convert_to_provided_type: bool = True) -> Callable:
    """Record that run() takes `param_name` from the JSON body."""
    def wrap(func: Callable) -> Callable:
        names = list(getattr(func, "__aml_input_names__", [])) + [param_name]

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)
        inner.__aml_input_names__ = names
        return inner
    return wrap


def output_schema(output_type: Any) -> Callable:
    """Accepted and ignored."""
    return lambda func: func
