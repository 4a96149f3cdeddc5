"""One place that turns user mistakes into one line on stderr and a non-zero exit.

Commands raise what they raise (`CLIError`, the SDK's own errors, httpx and OS errors, click's usage
errors); the root group catches them here, so no command repeats the handling. Anything else is a bug and
keeps its traceback.
Set ``VNS_SDK_DEBUG=1`` to see the traceback of a user mistake too.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

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


def _drop_stdout() -> None:
    # Point stdout at /dev/null, so that flushing it at exit does not fail on the broken pipe again.
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


# Click's UsageError (a missing option, an unknown command), found through a name typer re-exports: typer
# bundles its own copy of click in recent versions and uses the click package in older ones.
_USAGE_ERROR: type[Exception] = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")


class ErrorHandlingGroup(TyperGroup):
    """The root command group: runs a command and reports user mistakes as ``error: ...`` on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CLIError as exc:
            self._fail(exc, exc.message, exc.exit_code)
        except _USAGE_ERROR as exc:
            self._usage(exc, ctx)
        except BrokenPipeError:
            # Whoever read the output left (`vns-sdk tools | head -1`): nobody is there to tell.
            _drop_stdout()
            raise typer.Exit(1) from None
        except Exception as exc:
            message = describe_error(exc)
            if message is None:
                raise
            self._fail(exc, message, 1)

    def get_params(self, ctx: Any) -> list[Any]:
        from vns_sdk.cli._help import quiet_flags

        return quiet_flags(super().get_params(ctx))

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The root's own options are parsed here, before `invoke`: `vns-sdk --bogus` is a usage error too.
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            self._usage(exc, None)

    @classmethod
    def _usage(cls, exc: Exception, ctx: Any) -> NoReturn:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `vns-sdk` alone: the help is already shown
            raise exc
        where = getattr(exc, "ctx", None) or ctx
        hint = f" (see: {where.command_path} --help)" if where is not None else ""
        format_message = getattr(exc, "format_message", None)
        text = format_message() if callable(format_message) else str(exc)
        cls._fail(exc, f"{text}{hint}", int(getattr(exc, "exit_code", 2)))

    @staticmethod
    def _fail(exc: BaseException, message: str, exit_code: int) -> NoReturn:
        if os.environ.get("VNS_SDK_DEBUG"):
            raise exc
        # One line: a multi-line message (a pydantic error, say) is folded rather than cut.
        line = " ".join(message.split())
        typer.echo(f"error: {line}", err=True)
        raise typer.Exit(exit_code) from None
