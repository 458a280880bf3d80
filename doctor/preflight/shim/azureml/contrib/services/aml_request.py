"""`AMLRequest` and `@rawhttp`: preflight calls run() with an AMLRequest holding the sample."""

import json
from typing import Any, Callable


class AMLRequest:
    """A minimal stand-in for the Flask request a @rawhttp run() receives."""

    def __init__(self, data: bytes, method: str = "POST", headers: Any = None) -> None:
        self.method = method
        self.headers = dict(headers or {"Content-Type": "application/json"})
        self.args: dict = {}
        self._data = data

    def get_data(self, as_text: bool = False) -> Any:
        """The raw body."""
        return self._data.decode("utf-8") if as_text else self._data

    @property
    def data(self) -> bytes:
        """The raw body."""
        return self._data

    def get_json(self, silent: bool = False, force: bool = False) -> Any:
        """The body parsed as JSON."""
        return json.loads(self._data)

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return self.get_json()


def rawhttp(func: Callable) -> Callable:
    """Mark run() as taking the request object, as the server's decorator does."""
    func.__aml_rawhttp__ = True
    return func
