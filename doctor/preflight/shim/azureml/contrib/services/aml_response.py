"""`AMLResponse`: what a @rawhttp run() may return."""

from typing import Any


class AMLResponse:
    """A response body, status and headers."""

    def __init__(self, message: Any, status_code: int = 200, json_str: bool = False, headers: Any = None) -> None:
        self.message = message
        self.status_code = status_code
        self.headers = dict(headers or {})
