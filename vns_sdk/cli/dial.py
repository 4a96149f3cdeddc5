"""`vns-sdk dial NUMBER --caller-id ...`: ask VNS to place an outbound call."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vns_sdk.cli._command import Command, EnvFileOption
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.client import VNSClient

__all__ = ["COMMAND", "dial", "make_client", "parse_phone_number"]

_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


def parse_phone_number(value: str, *, what: str) -> str:
    """Check a phone number: digits, an optional leading ``+``, 7 to 15 digits (E.164 allows 15).

    Args:
        value: The number as typed.
        what: How to name it in the error (``NUMBER``, ``--caller-id``).

    Returns:
        The number, stripped of surrounding spaces.

    Raises:
        CLIError: It is not such a number.
    """
    number = value.strip()
    if not _PHONE.match(number):
        raise CLIError(
            f"{what} must be a phone number of 7 to 15 digits with an optional leading + "
            f"(like 3032639999 or +13032639999), got {value!r}",
            exit_code=2,
        )
    return number


def _parse_context(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"--context is not valid JSON: {exc.msg} (at character {exc.pos})", exit_code=2) from None
    if not isinstance(value, dict):
        raise CLIError(f'--context must be a JSON object like {{"order": 42}}, got {type(value).__name__}', exit_code=2)
    return value


def make_client(*, api_url: str | None, api_token: str | None) -> VNSClient:
    """The client `dial` uses when no app is given (the environment supplies what is not passed).

    Args:
        api_url: The VNS outbound-call API, or None for ``VNS_API_URL`` (or the VNS test API).
        api_token: The API credentials, or None for ``VNS_API_TOKEN``.
    """
    from vns_sdk.client import VNSClient

    return VNSClient(api_url=api_url, api_token=api_token)


def dial(
    number: Annotated[
        str, typer.Argument(help="The number to call: 7 to 15 digits, optional leading +.", metavar="NUMBER")
    ],
    caller_id: Annotated[
        str, typer.Option("--caller-id", help="The number the call comes from (your DID on Voice Elements).")
    ],
    name: Annotated[str | None, typer.Option("--name", help="The caller ID name shown to the callee.")] = None,
    customer_call_id: Annotated[
        str | None,
        typer.Option("--customer-call-id", help="Your id for the call; VNS sends it back on CallStart and CallEnd."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="A JSON object stored for the call, found in call.state on its CallStart "
            "(through --app, or the project's app).",
        ),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option(
            "--app", help="Dial through this app (file or module:attr), using its settings and call-state store."
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="The VNS outbound-call API. \\[default: $VNS_API_URL, else the VNS test API]"),
    ] = None,
    env_file: EnvFileOption = None,
) -> None:
    """Ask VNS to call NUMBER; VNS then sends your CallStart webhook with outboundTriggered true.

    Needs the API credentials in VNS_API_TOKEN (and VNS_API_URL for a non-default API).
    """
    from vns_sdk.cli._loading import open_app, prepare_environment

    if api_url is not None and (app is not None or context is not None):
        raise CLIError("--api-url cannot be combined with an app: the app's settings (VNS_API_URL) decide", exit_code=2)
    number = parse_phone_number(number, what="NUMBER")
    caller_id = parse_phone_number(caller_id, what="--caller-id")
    context_value = _parse_context(context) if context is not None else None

    if context_value is not None and app is None:
        # The context must be stored where the CallStart handler looks: the project's app, if there is one.
        from vns_sdk.cli._loading import read_project_config

        if read_project_config(Path.cwd()) is None:
            raise CLIError(
                "--context needs --app: the context is stored in the app's call-state store, where the CallStart "
                "handler finds it",
                exit_code=2,
            )
    if app is not None or context_value is not None:
        # Dialing never serves the app, so an app without a webhook token of its own may dial too.
        _, vns_app = open_app(app, env_file=env_file, simulated=True)
        _warn_if_context_stays_here(vns_app, context_value)
        if customer_call_id is None:
            # The app would make one up; make it here, so it can be printed (it is how the call is found later).
            from vns_sdk.app._outbound import new_customer_call_id

            customer_call_id = new_customer_call_id()
        response = vns_app.dial(
            number,
            caller_id,
            caller_id_name=name,
            customer_call_id=customer_call_id,
            context=context_value,
        )
    else:
        prepare_environment(env_file)
        with make_client(api_url=api_url, api_token=None) as client:
            response = client.dial(number, caller_id, caller_id_name=name, customer_call_id=customer_call_id)

    if not response.ok:
        raise CLIError(f"VNS refused the call (status {response.status}): {response.error_message}")
    typer.echo(f"VNS is calling {number} from {caller_id} (status {response.status}: {response.error_message}).")
    if customer_call_id:
        typer.echo(f"customerCallId: {customer_call_id}")


def _warn_if_context_stays_here(vns_app: Any, context: dict[str, Any] | None) -> None:
    from vns_sdk.state.memory import MemoryCallStateStore

    if context is not None and isinstance(vns_app.store, MemoryCallStateStore):
        typer.secho(
            "warning: the app keeps call state in memory, so the context stays in this process and the running "
            "server will not see it; set VNS_REDIS_URL to share call state",
            err=True,
            fg="yellow",
        )


COMMAND = Command(
    name="dial",
    function=dial,
    panel="VNS",
    epilog=(
        "Examples:\n\n"
        "  VNS_API_TOKEN=... vns-sdk dial 3032639999 --caller-id 7206999999 --name 'Example Dental'\n"
        "  vns-sdk dial +13032639999 --caller-id 7206999999 --customer-call-id order-42 \\\n"
        "      --context '{\"order\": 42}' --app my_agent.app:app"
    ),
)
