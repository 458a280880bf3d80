"""`AbstractParameterType`: holds the sample; no validation in preflight."""

from typing import Any


class AbstractParameterType:
    """A parameter type's sample input, kept as given."""

    def __init__(self, sample_input: Any = None, *args: Any, **kwargs: Any) -> None:
        self.sample_input = sample_input
