"""`vns-sdk dev [APP]`: serve the app with uvicorn (reloading on change) and say what to give VNS support."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from vns_sdk.cli._command import AppArgument, Command, EnvFileOption
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.app import VNSApp

__all__ = ["COMMAND", "dev"]


def _auth_lines(app: VNSApp) -> list[str]:
    from vns_sdk.cli._secrets import mask_secret

    settings = app.settings
    lines: list[str] = []
    if settings.webhook_token:
        token = mask_secret(settings.webhook_token[0].get_secret_value())
        value = f"Bearer {token}" if settings.webhook_header.lower() == "authorization" else token
        lines.append(f"{settings.webhook_header}: {value}   (the value of VNS_WEBHOOK_TOKEN)")
    if settings.webhook_basic_auth:
        user = settings.webhook_basic_auth[0].get_secret_value().partition(":")[0]
        lines.append(f"HTTP Basic auth, user {user!r}   (from VNS_WEBHOOK_BASIC_AUTH)")
    return lines


def _free_port(host: str) -> int:
    """A port free on `host` now, for ``--port 0``: chosen here, so the URLs printed are the ones served."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _base_url(app: VNSApp, host: str, port: int) -> tuple[str, bool]:
    if app.settings.public_url:
        return app.settings.public_url.rstrip("/"), True
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}", False


def dev(
    app: AppArgument = None,
    host: Annotated[str, typer.Option(help="The interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on (0: a free one, printed).", min=0, max=65535)] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when a file of the app changes.")] = True,
    insecure_dev: Annotated[
        bool,
        typer.Option(
            "--insecure-dev",
            help="Serve without a webhook token (sets VNS_INSECURE_DEV=1): anyone can call the webhooks. Local only.",
        ),
    ] = False,
    inspector: Annotated[
        bool,
        typer.Option(
            "--inspector/--no-inspector",
            help="Serve the inspector page (every call as it happens) at <prefix>/inspector/ (sets VNS_INSPECTOR).",
        ),
    ] = True,
    env_file: EnvFileOption = None,
) -> None:
    """Serve the app with uvicorn, reloading on change; print the URLs and the auth to give VNS support."""
    from vns_sdk.cli._loading import open_app
    from vns_sdk.exceptions import ConfigurationError

    # Through the environment, so the server process that uvicorn's reloader starts sees them too.
    if insecure_dev:
        os.environ["VNS_INSECURE_DEV"] = "1"
    os.environ["VNS_INSPECTOR"] = "1" if inspector else "0"
    try:
        spec, vns_app = open_app(app, env_file=env_file)
    except ConfigurationError as exc:
        if os.environ.get("VNS_WEBHOOK_TOKEN"):
            raise
        # Point at .env.example only where there is one (a `vns-sdk new` project), not in any folder.
        example = " (see .env.example)" if os.path.isfile(".env.example") else ""
        raise CLIError(f"{exc} Here: put VNS_WEBHOOK_TOKEN in .env{example}, or pass --insecure-dev.") from exc
    settings = vns_app.settings
    if port == 0:
        port = _free_port(host)
    auth = _auth_lines(vns_app)
    if not auth and not settings.insecure_dev:
        raise CLIError(
            "no webhook token: set VNS_WEBHOOK_TOKEN (in the environment or .env) to the secret VNS will send, "
            "or pass --insecure-dev to try the app locally without one"
        )
    base_url, public = _base_url(vns_app, host, port)
    urls = vns_app.webhook_urls(base_url)
    # Scenarios copied from the inspector name the app by its file, so `vns-sdk test` finds it from anywhere.
    reference = f"{spec.path.resolve()}:{spec.attr}" if spec.path is not None else spec.import_string
    os.environ.setdefault("VNS_INSPECTOR_APP", reference)

    typer.secho(f"Serving {spec.import_string} on http://{host}:{port}", bold=True)
    typer.echo("")
    typer.echo("Give VNS support (support@inventivelabs.com) your DID and:")
    typer.echo(f"  CallStart URL  {urls['call_start']}")
    typer.echo(f"  CallEnd URL    {urls['call_end']}")
    for index, line in enumerate(auth or ["none (insecure development mode)"]):
        typer.echo(f"  {'Auth (both)' if index == 0 else '':<13}  {line}")
    typer.echo(f"  Tools URL      {urls['tools']}   (automatic: sent to VNS in every CallStart answer)")
    typer.echo("")
    if settings.inspector:
        sign_in = ""
        if settings.webhook_token:
            sign_in = "   (sign in: any user name, the webhook token as password)"
        elif settings.webhook_basic_auth:
            sign_in = "   (sign in with the webhook's Basic user and password)"
        typer.echo(f"Watch every call: {base_url}{vns_app.prefix}/inspector/{sign_in}")
        typer.echo("  and talk to the agent there: Chat with the agent (the real Realtime model, billed to your key)")
        typer.echo("")
    if not public:
        typer.secho(
            "note: VNS_PUBLIC_URL is not set, so these URLs are local; VNS needs a public https URL "
            "(deploy the app, or run a tunnel) — set VNS_PUBLIC_URL to it",
            fg="yellow",
            err=True,
        )
    if settings.insecure_dev:
        typer.secho(
            "warning: insecure development mode: the webhooks accept any request and CallStart answers carry your "
            "OpenAI key; never expose this server",
            fg="red",
            bold=True,
            err=True,
        )

    import uvicorn

    from vns_sdk.cli._logging import uvicorn_log_config

    uvicorn.run(
        spec.import_string,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=[str(spec.app_dir)] if reload else None,
        app_dir=str(spec.app_dir),
        log_config=uvicorn_log_config(),  # the app's own log lines (a CallEnd handler's) show too
        # An open inspector page holds an event stream: a reload or Ctrl+C must not wait for the browser.
        timeout_graceful_shutdown=1,
    )


COMMAND = Command(
    name="dev",
    function=dev,
    panel="Project",
    epilog=(
        "Examples:\n\n"
        "  vns-sdk dev                               # the app named in pyproject.toml\n"
        "  vns-sdk dev examples/lookup/app.py\n"
        "  vns-sdk dev my_agent.app:app --port 9000 --no-reload\n"
        "  vns-sdk dev app.py --insecure-dev         # no token, local tries only\n"
        "  vns-sdk dev --no-inspector                # without the inspector page"
    ),
)
