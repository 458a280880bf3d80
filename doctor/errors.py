"""The one exception root of mldoctor; only the CLI edge turns these into exit codes."""

from __future__ import annotations


class DoctorError(Exception):
    """Base of every error mldoctor raises on purpose; `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InputError(DoctorError):
    """Bad invocation or bad input: unreadable bundle, invalid rule or config file (exit 2)."""

    exit_code = 2


class RuleError(InputError):
    """A rule file that does not load or does not validate; `where` is `file:line`."""


class UnreachableError(DoctorError):
    """The target could not be reached or nothing could be collected (exit 3)."""

    exit_code = 3


INTERNAL_ERROR_EXIT = 4  # an unexpected exception: a bug in mldoctor, not bad input (2) nor an unreachable target (3)
