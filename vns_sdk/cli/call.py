"""`vns-sdk call [APP]`: a simulated phone call in the terminal: pick a tool, type its arguments, see the reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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
    from vns_sdk.cli._schema import Parameter
    from vns_sdk.models import FunctionTool
    from vns_sdk.testing import SimulatedCall

__all__ = ["COMMAND", "call", "simulated_call"]

_HANG_UP = ("", "q", "quit", "exit", "bye", "hangup", "hang up")


@contextmanager
def simulated_call(
    app: str | None,
    *,
    caller_id: str,
    caller_id_name: str,
    called_number: str,
    customer_call_id: str | None,
    outbound: bool,
) -> Iterator[SimulatedCall]:
    """Load the app a command names and place a simulated call to it, in this process; ended afterwards.

    Args:
        app: What the user typed (a file, a folder, ``module:attr``), or None for the project's app.
        caller_id: The calling number.
        caller_id_name: The caller's display name.
        called_number: The DID called.
        customer_call_id: The customerCallId VNS sends.
        outbound: Simulate an outbound-triggered call.
    """
    from vns_sdk.cli._loading import open_app
    from vns_sdk.cli._logging import show_app_logs
    from vns_sdk.testing import VNSSimulator

    _, vns_app = open_app(app, simulated=True)
    with (
        show_app_logs(),
        VNSSimulator(vns_app) as simulator,
        simulator.call(
            caller_id=caller_id,
            caller_id_name=caller_id_name,
            called_number=called_number,
            customer_call_id=customer_call_id,
            outbound=outbound,
        ) as live,
    ):
        yield live


def _print_json(value: Any, *, prefix: str) -> None:
    lines = json.dumps(value, indent=2, ensure_ascii=False).splitlines()
    typer.echo("\n".join([prefix + lines[0], *(" " * len(prefix) + line for line in lines[1:])]))


def _list_tools(tools: dict[str, FunctionTool]) -> None:
    typer.echo("Tools the model can call:")
    for index, (name, tool) in enumerate(tools.items(), start=1):
        description = (tool.description or "").strip().splitlines()
        typer.echo(f"  {index}. {name}" + (f" — {description[0]}" if description else ""))


def _pick_tool(text: str, tools: dict[str, FunctionTool]) -> str | None:
    names = list(tools)
    if text.isdigit() and 1 <= int(text) <= len(names):
        return names[int(text) - 1]
    if text in tools:
        return text
    matches = [name for name in names if name.lower().startswith(text.lower())]
    return matches[0] if len(matches) == 1 else None


def _prompt_parameter(tool: FunctionTool, parameter: Parameter) -> tuple[bool, Any]:
    """Ask for one argument until the tool's schema accepts it; returns (given, value). Empty skips an optional one.

    The answer is checked as the model's arguments are: against the tool's declared schema, exactly as typed
    (``Friday`` is not ``friday``), with the reason in one line when it does not fit.
    """
    from vns_sdk.cli._schema import parse_value

    flag = "required" if parameter.required else "optional, Enter to skip"
    if "default" in parameter.schema:
        flag += f", default {json.dumps(parameter.schema['default'], ensure_ascii=False)}"
    label = f"  {parameter.name} ({parameter.type_label}; {flag})"
    if parameter.description:
        typer.secho(f"    {parameter.description}", dim=True)
    while True:
        text: str = typer.prompt(label, default="", show_default=False)
        if text == "":
            if not parameter.required:
                return False, None
            typer.secho(f"    {parameter.name} is required", fg="yellow")
            continue
        if text == '""':
            text = ""
        try:
            value = parse_value(text, parameter)
        except ValueError as exc:
            typer.secho(f"    {exc}", fg="yellow")
            continue
        problems = _problems(tool, {parameter.name: value}, only=parameter.name)
        if not problems:
            return True, value
        typer.secho(f"    {problems[0]}", fg="yellow")


def _problems(tool: FunctionTool, arguments: dict[str, Any], *, only: str | None = None) -> list[str]:
    """Why the tool's declared schema rejects these arguments (as the simulator checks the model's), one line each."""
    from vns_sdk.testing._checks import argument_problems

    problems = argument_problems(tool, arguments)
    if only is not None:
        problems = [problem for problem in problems if problem.startswith((f"{only}:", f"{only}."))]
    return [" ".join(problem.split()) for problem in problems]


def _arguments_for(tool: FunctionTool, inline: str) -> dict[str, Any] | None:
    """The arguments: from inline JSON typed after the tool's name, or prompted one by one."""
    from vns_sdk.cli._schema import parameters_of

    if inline:
        try:
            value = json.loads(inline)
        except json.JSONDecodeError as exc:
            typer.secho(f"  not JSON: {exc.msg}; type the tool alone to be asked for each argument", fg="yellow")
            return None
        if not isinstance(value, dict):
            typer.secho("  the arguments must be a JSON object", fg="yellow")
            return None
        problems = _problems(tool, value)
        if problems:
            # What the model would be told it cannot send: say why, and let the call go on.
            for problem in problems:
                typer.secho(f"  {problem}", fg="yellow")
            return None
        return value
    arguments: dict[str, Any] = {}
    for parameter in parameters_of(tool.parameters or {}):
        given, value = _prompt_parameter(tool, parameter)
        if given:
            arguments[parameter.name] = value
    return arguments


def _invoke(live: SimulatedCall, name: str, arguments: dict[str, Any]) -> None:
    from vns_sdk.testing import SimulationError

    typer.secho(f"→ {name} {json.dumps(arguments, ensure_ascii=False)}", fg="cyan")
    try:
        reply = live.invoke(name, **arguments)
    except SimulationError as exc:
        # Say what went wrong and keep the call going: trying a bad argument is part of exploring.
        typer.secho(f"✗ {exc}", fg="red")
        return
    outcome = reply.get("error")
    _print_json(reply, prefix="← ")
    if isinstance(outcome, str):
        typer.secho(f"  (the model hears an error: {outcome})", fg="yellow")


def call(
    app: AppArgument = None,
    caller_id: CallerIdOption = "3035550123",
    caller_name: CallerNameOption = "Jane Doe",
    called_number: CalledNumberOption = "7205550100",
    customer_call_id: CustomerCallIdOption = None,
    outbound: OutboundOption = False,
) -> None:
    """Place a simulated call to the app: CallStart, the tools you pick (you play the model), then CallEnd.

    At the prompt, type a tool's number or name to be asked for its arguments, or its name followed by JSON
    arguments (lookup {"name": "Ron"}); Enter hangs up.
    """
    with simulated_call(
        app,
        caller_id=caller_id,
        caller_id_name=caller_name,
        called_number=called_number,
        customer_call_id=customer_call_id,
        outbound=outbound,
    ) as live:
        session = live.session
        voice = session.audio.output.voice if session.audio and session.audio.output else None
        typer.secho(
            f"Call connected: {caller_id} → {called_number}  (session {live.session_guid})", bold=True, fg="green"
        )
        typer.echo(f"model {session.model}, voice {voice}, at most {live.max_seconds} s")
        if live.instructions:
            typer.echo(f"instructions: {live.instructions}")
        typer.echo("")
        tools = live.tools
        if not tools:
            typer.echo("The app offers no tools.")
        else:
            _list_tools(tools)
            _converse(live, tools)
        ack = live.end()
    typer.secho("Call ended (CallEnd sent).", bold=True)
    _print_json(ack, prefix="← ")


def _converse(live: SimulatedCall, tools: dict[str, FunctionTool]) -> None:
    while True:
        typer.echo("")
        try:
            text: str = typer.prompt(
                "Tool (number or name, ? to list, Enter to hang up)", default="", show_default=False
            )
        except typer.Abort:  # end of input or Ctrl-C: hang up properly, so CallEnd still runs
            typer.echo("")
            return
        text = text.strip()
        if text.lower() in _HANG_UP:
            return
        if text in ("?", "list", "help"):
            _list_tools(tools)
            continue
        choice, _, inline = text.partition(" ")
        name = _pick_tool(choice, tools)
        if name is None:
            typer.secho(f"  no tool {choice!r}; type ? to list them", fg="yellow")
            continue
        try:
            arguments = _arguments_for(tools[name], inline.strip())
        except typer.Abort:
            typer.echo("")
            return
        if arguments is None:
            continue
        _invoke(live, name, arguments)
        if name == "end_conversation":
            typer.echo("The model asked to end the conversation: VNS hangs up.")
            return


COMMAND = Command(
    name="call",
    function=call,
    panel="Simulate",
    epilog=(
        "Examples:\n\n"
        "  vns-sdk call\n"
        "  vns-sdk call examples/lookup/app.py --caller-id 3032639999\n"
        "  printf '2\\nRon\\n\\n\\n' | vns-sdk call examples/lookup/app.py"
    ),
)
