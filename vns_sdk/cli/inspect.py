"""`vns-sdk tools` and `vns-sdk session`: what the app tells OpenAI, without a phone."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vns_sdk.cli._command import (
    AppArgument,
    CalledNumberOption,
    CallerIdOption,
    CallerNameOption,
    Command,
    CustomerCallIdOption,
    OutboundOption,
)

if TYPE_CHECKING:
    from vns_sdk.app import VNSApp

__all__ = ["COMMANDS", "session", "tools", "tools_array"]


def tools_array(app: VNSApp) -> list[dict[str, Any]]:
    """The ``session.tools`` array of the app's CallStart answer, as JSON."""
    session = app.build_session()
    # Dumped as the CallStart answer dumps them (wire names, only the fields set).
    return [
        dict(tool) if isinstance(tool, dict) else tool.model_dump(mode="json", by_alias=True, exclude_unset=True)
        for tool in session.tools or []
    ]


def tools(
    app: AppArgument = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the exact tools array sent to OpenAI.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Report what makes a tool worse for the model (see the Tools docs); exit 1 on any."
        ),
    ] = False,
) -> None:
    """List the app's tools: name, description and parameters, as the model sees them."""
    from vns_sdk.cli._loading import open_app

    _, vns_app = open_app(app, simulated=True)
    if check:
        _check(vns_app)
        return
    array = tools_array(vns_app)
    if as_json:
        typer.echo(json.dumps(array, indent=2, ensure_ascii=False))
        return

    from rich.console import Console
    from rich.table import Table

    from vns_sdk.cli._schema import parameters_of

    table = Table(title=f"{len(array)} tool{'s' if len(array) != 1 else ''}", show_lines=True, title_justify="left")
    table.add_column("Name", style="bold cyan", no_wrap=True)
    table.add_column("Description")
    table.add_column("Parameters")
    for tool in array:
        if tool.get("type") != "function":
            table.add_row(str(tool.get("server_label") or tool.get("type")), f"{tool.get('type')} tool", "")
            continue
        lines = []
        for parameter in parameters_of(tool.get("parameters") or {}):
            flag = "required" if parameter.required else "optional"
            line = f"[bold]{parameter.name}[/]: {parameter.type_label}, {flag}"
            if parameter.description:
                line += f"\n  [dim]{parameter.description}[/]"
            lines.append(line)
        table.add_row(tool["name"], tool.get("description") or "", "\n".join(lines) or "[dim](none)[/]")
    Console().print(table)


def _check(vns_app: VNSApp) -> None:
    from vns_sdk.tools import lint_tools

    problems = lint_tools(vns_app)
    count = len(vns_app.tools)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.secho(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {count} tool{'s' if count != 1 else ''}.",
            fg="red",
            bold=True,
        )
        raise typer.Exit(1)
    typer.secho(f"{count} tool{'s' if count != 1 else ''} checked: no problem found.", fg="green")


def session(
    app: AppArgument = None,
    caller_id: CallerIdOption = "3035550123",
    caller_name: CallerNameOption = "Jane Doe",
    called_number: CalledNumberOption = "7205550100",
    customer_call_id: CustomerCallIdOption = None,
    outbound: OutboundOption = False,
) -> None:
    """Print the CallStart answer a sample call gets (your CallStart handlers run), secrets masked."""
    from vns_sdk.cli._secrets import mask_secrets
    from vns_sdk.cli.call import simulated_call

    with simulated_call(
        app,
        caller_id=caller_id,
        caller_id_name=caller_name,
        called_number=called_number,
        customer_call_id=customer_call_id,
        outbound=outbound,
    ) as sample:
        # The parsed answer, not the exchange's copy: that one is redacted whole, and a masked key is
        # more useful (``sk-…xyz`` tells which key is configured).
        answer = sample.response.model_dump(mode="json", by_alias=True, exclude_unset=True)
    typer.echo(json.dumps(mask_secrets(answer), indent=2, ensure_ascii=False))


COMMANDS = (
    Command(
        name="tools",
        function=tools,
        panel="Inspect",
        epilog=(
            "Examples:\n\n"
            "  vns-sdk tools\n"
            "  vns-sdk tools examples/lookup/app.py\n"
            "  vns-sdk tools my_agent.app:app --json > tools.json\n"
            "  vns-sdk tools --check                   # what makes a tool worse for the model"
        ),
    ),
    Command(
        name="session",
        function=session,
        panel="Inspect",
        epilog=(
            "Examples:\n\n"
            "  vns-sdk session\n"
            "  vns-sdk session examples/lookup/app.py --caller-id 3032639999\n"
            "  vns-sdk session --outbound --customer-call-id order-42"
        ),
    ),
)
