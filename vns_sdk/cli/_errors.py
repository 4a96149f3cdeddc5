"""One place that turns user mistakes into one line on stderr and a non-zero exit.

Commands raise what they raise (`CLIError`, the SDK's own errors, httpx and OS errors); the root group
catches them here, so no command repeats the handling. Anything else is a bug and keeps its traceback.
Set ``VNS_SDK_DEBUG=1`` to see the traceback of a user mistake too.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["CLIError", "ErrorHandlingGroup", "describe_error"]


class CLIError(Exception):
    """A mistake the user can fix; the message says what is wrong and, when it helps, what to do.

    Args:
        message: One line, without the ``error:`` prefix.
        exit_code: The process exit code (2 for bad input, like a usage error; 1 for everything else).
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def describe_error(exc: BaseException) -> str | None:
    """The one-line description of a user-facing error, or None when `exc` is a bug.

    Args:
        exc: The exception a command raised.

    Returns:
        The line to print after ``error:``, or None to let the exception (and its traceback) through.
    """
    from vns_sdk.exceptions import VNSError

    if isinstance(exc, CLIError):
        return exc.message
    if isinstance(exc, VNSError):
        return str(exc) or type(exc).__name__
    # httpx is only in sys.modules when a command used it; checking there keeps `--help` from importing it.
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.HTTPError):
        try:
            where = f" ({exc.request.url})"
        except RuntimeError:  # raised by `.request` when the error carries none
            where = ""
        return f"could not reach{where}: {exc or type(exc).__name__}"
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        return f"{name}{exc.strerror or exc}"
    return None


class ErrorHandlingGroup(TyperGroup):
    """The root command group: runs a command and reports user mistakes as ``error: ...`` on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CLIError as exc:
            self._fail(exc, exc.message, exc.exit_code)
        except Exception as exc:
            message = describe_error(exc)
            if message is None:
                raise
            self._fail(exc, message, 1)

    @staticmethod
    def _fail(exc: BaseException, message: str, exit_code: int) -> None:
        if os.environ.get("VNS_SDK_DEBUG"):
            raise exc
        # One line: a multi-line message (a pydantic error, say) is folded rather than cut.
        line = " ".join(message.split())
        typer.echo(f"error: {line}", err=True)
        raise typer.Exit(exit_code) from None
