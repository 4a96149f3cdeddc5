"""`vns-sdk serve [APP]`: the production server (uvicorn, N workers, TCP_NODELAY, graceful shutdown)."""

from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vns_sdk.cli._command import AppArgument, Command, EnvFileOption
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk._server import ServerOptions
    from vns_sdk.app import VNSApp

__all__ = ["COMMAND", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


# Choices as enums: typer shows them as [auto|httptools|h11] and refuses anything else.
class Parser(str, Enum):
    """``--http``."""

    auto = "auto"
    httptools = "httptools"
    h11 = "h11"


class Loop(str, Enum):
    """``--loop``."""

    auto = "auto"
    uvloop = "uvloop"
    asyncio = "asyncio"


class LogLevel(str, Enum):
    """``--log-level``."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _check_app(vns_app: VNSApp, workers: int) -> None:
    from vns_sdk.state.memory import MemoryCallStateStore

    if vns_app.settings.insecure_dev:
        raise CLIError(
            "the app is in insecure development mode (VNS_INSECURE_DEV, or insecure_dev=True in its code): the "
            "production server does not serve without a webhook token (CallStart answers carry your OpenAI key); "
            "set VNS_WEBHOOK_TOKEN instead, or use vns-sdk dev locally"
        )
    if workers > 1 and isinstance(vns_app.store, MemoryCallStateStore):
        raise CLIError(
            f"--workers {workers} needs call state shared between the workers, and this app keeps it in the "
            "memory of one process: set VNS_REDIS_URL (pip install 'vns-sdk[redis]'), or serve one worker"
        )


def _trusted_proxies(value: str) -> str:
    # uvicorn quietly takes an entry that is not an address for a name no client ever has: say so instead.
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if entries == ["*"]:
        return "*"
    for entry in entries:
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            raise CLIError(
                f"--forwarded-allow-ips: {entry!r} is not an IP address or network (like 10.0.0.2 or 10.0.0.0/8; "
                "'*' alone trusts any)",
                exit_code=2,
            ) from None
    return ",".join(entries)


def _where(options: ServerOptions) -> str:
    if options.uds is not None:
        return f"unix socket {options.uds}"
    if options.fd is not None:
        return f"inherited socket (file descriptor {options.fd})"
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{options.port}"


def serve(
    app: AppArgument = None,
    host: Annotated[
        str | None,
        typer.Option(help="The interface to listen on (0.0.0.0 for every one). \\[default: 127.0.0.1]"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="The TCP port to listen on. \\[default: 8000]", min=1, max=65535)
    ] = None,
    uds: Annotated[str | None, typer.Option("--uds", help="Listen on this Unix socket instead.")] = None,
    fd: Annotated[
        int | None,
        typer.Option(
            "--fd",
            help="Serve on this inherited listening socket instead.",
            min=0,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            help="Worker processes (more than one needs VNS_REDIS_URL).",
            min=1,
            envvar="WEB_CONCURRENCY",
        ),
    ] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Trust X-Forwarded-For/-Proto only from these addresses (comma-separated; '*': any).",
            envvar="FORWARDED_ALLOW_IPS",
        ),
    ] = "127.0.0.1,::1",
    graceful_timeout: Annotated[
        int,
        typer.Option(
            "--graceful-timeout",
            help="Seconds the requests in progress get to finish after SIGTERM or Ctrl+C.",
            min=0,
        ),
    ] = 30,
    keep_alive: Annotated[
        int,
        typer.Option(
            "--keep-alive",
            help="Seconds an idle connection stays open, and a request's headers may take to arrive.",
            min=1,
        ),
    ] = 5,
    http: Annotated[
        Parser,
        typer.Option(help="The HTTP parser; auto: httptools when installed, else h11."),
    ] = Parser.auto,
    loop: Annotated[
        Loop,
        typer.Option(help="The event loop; auto: uvloop when installed, else asyncio."),
    ] = Loop.auto,
    log_level: Annotated[
        LogLevel,
        typer.Option(help="Log level of the server and the app (info: a line per webhook)."),
    ] = LogLevel.info,
    access_log: Annotated[bool, typer.Option(help="Also write uvicorn's access log.")] = False,
    log_config: Annotated[
        Path | None,
        typer.Option("--log-config", help="A logging configuration file (.json, .yaml, .ini).", exists=True),
    ] = None,
    env_file: EnvFileOption = None,
) -> None:
    """Serve the app in production: worker processes, graceful shutdown, no Nagle delay on kept-alive calls."""
    from vns_sdk import _server
    from vns_sdk.cli._loading import open_app

    if uds is not None and fd is not None:
        raise CLIError("--uds and --fd are two ways to listen: pass one", exit_code=2)
    if (uds is not None or fd is not None) and (host is not None or port is not None):
        flag = "--uds" if uds is not None else "--fd"
        raise CLIError(f"{flag} replaces --host and --port: pass one or the other", exit_code=2)
    trusted = _trusted_proxies(forwarded_allow_ips)
    spec, vns_app = open_app(app, env_file=env_file)
    _check_app(vns_app, workers)
    options = _server.ServerOptions(
        app=spec.import_string,
        app_dir=spec.app_dir,
        host=host or DEFAULT_HOST,
        port=port or DEFAULT_PORT,
        uds=uds,
        fd=fd,
        workers=workers,
        forwarded_allow_ips=trusted,
        graceful_timeout=graceful_timeout,
        keep_alive=keep_alive,
        http=http.value,
        loop=loop.value,
        log_level=log_level.value,
        access_log=access_log,
        log_config=str(log_config) if log_config is not None else None,
    )
    parser, event_loop = _server.http_parser(options.http), _server.event_loop(options.loop)
    processes = "1 process" if workers == 1 else f"{workers} workers"
    typer.echo(
        f"vns-sdk serve: {spec.import_string} on {_where(options)}, {processes}, "
        f"{parser} HTTP parser, {event_loop} event loop",
        err=True,
    )
    missing = [name for name, chosen in (("httptools", parser), ("uvloop", event_loop)) if name != chosen]
    if missing and options.http == options.loop == "auto":
        typer.echo(f"note: {' and '.join(missing)} not installed; for speed: {_server.EXTRA_HINT}", err=True)
    if not vns_app.settings.public_url:
        typer.echo(
            "note: VNS_PUBLIC_URL is not set: the tools URL given to VNS is built from each CallStart's Host "
            "header (and X-Forwarded-Proto from a trusted proxy)",
            err=True,
        )
    status = _server.run(options, app=vns_app)
    if status:
        raise typer.Exit(status)


COMMAND = Command(
    name="serve",
    function=serve,
    panel="Project",
    epilog=(
        "Examples:\n\n"
        "  vns-sdk serve                                   # the app named in pyproject.toml, 127.0.0.1:8000\n"
        "  vns-sdk serve app.py --host 0.0.0.0 --port 8000\n"
        "  vns-sdk serve my_agent.app:app --workers 4      # with VNS_REDIS_URL set\n"
        "  vns-sdk serve app.py --uds /run/agent.sock --forwarded-allow-ips '*'   # behind nginx"
    ),
)
