"""The `vns-sdk` command: one Typer app, one module per command.

Only typer and the standard library are imported here and in the command modules' top level; each command
imports what it needs (uvicorn, rich, httpx, the user's app, the simulator) when it runs, so ``vns-sdk --help``
stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vns_sdk.cli import call, chat, dev, dial, inspect, new, replay, serve
from vns_sdk.cli._errors import ErrorHandlingGroup
from vns_sdk.cli._help import FlagCommand

__all__ = ["app"]

app = typer.Typer(
    name="vns-sdk",
    cls=ErrorHandlingGroup,
    help="Build, run and test a Voice Nexus Service (VNS) voice agent.",
    epilog=(
        "Start here:\n\n"
        "  vns-sdk new my-agent && cd my-agent\n"
        "  pip install -e '.\\[dev]' && pytest\n"
        "  vns-sdk call        # a simulated call in the terminal\n"
        "  vns-sdk dev         # serve it; prints the URLs to give VNS support"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold the OpenAI key or the webhook token
)


def _print_version(value: bool) -> None:
    if value:
        from vns_sdk import __version__

        typer.echo(f"vns-sdk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Build, run and test a Voice Nexus Service (VNS) voice agent."""


for command in (
    new.COMMAND,
    dev.COMMAND,
    serve.COMMAND,
    *inspect.COMMANDS,
    call.COMMAND,
    chat.COMMAND,
    *replay.COMMANDS,
    dial.COMMAND,
):
    app.command(name=command.name, cls=FlagCommand, epilog=command.epilog, rich_help_panel=command.panel)(
        command.function
    )
