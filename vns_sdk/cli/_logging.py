"""The app's own log lines, shown while a command runs it: its handlers' ``logger.info(...)`` included.

Python shows nothing below WARNING until logging is configured, so without this a CallEnd handler's log
line is lost under ``vns-sdk call``; ``vns-sdk dev`` passes the same policy to uvicorn (`uvicorn_log_config`).
The SDK's own line per webhook and the HTTP client's request lines stay out below WARNING: the commands
print the calls themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

__all__ = ["QuietLibraries", "show_app_logs", "uvicorn_log_config"]

_LIBRARIES = ("httpx", "httpcore", "anyio", "asyncio", "multipart", "python_multipart", "watchfiles")


class QuietLibraries(logging.Filter):
    """Below WARNING, keep the app's lines: not the libraries' chatter, nor the SDK's line per webhook."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if hasattr(record, "vns_endpoint"):  # the per-webhook access line (vns_sdk.app._access_log)
            return False
        return not record.name.startswith(_LIBRARIES)


class _EchoHandler(logging.Handler):
    """Print a record on stderr: an INFO line dim and unlabeled, a warning or error with its level."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # pragma: no cover - logging's own policy: never fail the caller
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            color = "red" if record.levelno >= logging.ERROR else "yellow"
            typer.secho(f"{record.levelname.lower()}: {text}", fg=color, err=True)
        else:
            typer.secho(text, dim=True, err=True)


@contextmanager
def show_app_logs() -> Iterator[None]:
    """While the block runs, print the app's log lines from INFO up (see the module's docstring)."""
    root = logging.getLogger()
    handler = _EchoHandler(logging.INFO)
    handler.addFilter(QuietLibraries())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, plus the app's lines from INFO up on its console handler."""
    from copy import deepcopy

    from uvicorn.config import LOGGING_CONFIG

    config = deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["vns_quiet_libraries"] = {"()": f"{__name__}.QuietLibraries"}
    config["handlers"]["vns_app"] = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["vns_quiet_libraries"],
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["vns_app"], "level": "INFO"}
    return config
