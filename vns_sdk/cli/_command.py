"""How a command module describes its command to the root app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "AppArgument",
    "CalledNumberOption",
    "CallerIdOption",
    "CallerNameOption",
    "Command",
    "CustomerCallIdOption",
    "EnvFileOption",
    "OutboundOption",
]

# Help text goes through rich markup: a literal "[" is written "\\[".
AppArgument = Annotated[
    str | None,
    typer.Argument(
        help="The app: a file (app.py), a folder holding app.py, or module:attr. "
        "\\[default: the app in pyproject.toml's \\[tool.vns-sdk]]",
        show_default=False,
        metavar="APP",
    ),
]
EnvFileOption = Annotated[
    Path | None,
    typer.Option("--env-file", help="Read settings from this file. \\[default: ./.env, if present]"),
]


# The caller of a simulated call (`vns-sdk call`, `vns-sdk session`).
CallerIdOption = Annotated[str, typer.Option("--caller-id", help="The calling number.")]
CallerNameOption = Annotated[str, typer.Option("--caller-name", help="The caller's display name.")]
CalledNumberOption = Annotated[str, typer.Option("--called-number", help="The DID called.")]
CustomerCallIdOption = Annotated[str | None, typer.Option("--customer-call-id", help="The customerCallId VNS sends.")]
OutboundOption = Annotated[bool, typer.Option("--outbound", help="Simulate an outbound-triggered call.")]


@dataclass(frozen=True)
class Command:
    """A command to register on the root app.

    Attributes:
        name: What the user types (``vns-sdk <name>``).
        function: The typer-annotated function; its docstring is the help text.
        epilog: Examples, shown after the options in ``--help``.
        panel: The heading the command is listed under in ``vns-sdk --help``.
    """

    name: str
    function: Callable[..., Any]
    epilog: str
    panel: str
