"""Start uvicorn with the options of ``vns-sdk serve``: one process, or a supervisor and N workers.

Built on uvicorn's own pieces: `uvicorn.Config`, `uvicorn.Server` (one process) and its multiprocess
supervisor (several workers sharing one listening socket, a dead worker replaced, SIGTERM passed on). What
is chosen here:

- the HTTP protocol: uvicorn's httptools or h11 protocol with Nagle's algorithm off
  (`vns_sdk._server.nodelay`), so every connection gets ``TCP_NODELAY`` however it was accepted, and a
  request's head bounded in time and size (`vns_sdk._server.head`);
- the event loop: uvloop when installed, asyncio otherwise;
- the listening socket: a host and port, a Unix socket, or an inherited file descriptor, which is opened as
  the socket it really is (uvicorn opens it as a Unix socket, and an event loop then treats a TCP listener
  as one);
- graceful shutdown: on SIGTERM or Ctrl+C the server stops accepting, closes idle connections, and gives
  the requests in progress ``graceful_timeout`` seconds to finish before cancelling them;
- logs: uvicorn's format for uvicorn's and the app's loggers (``vns_sdk``), uvicorn's access log off (the
  app logs one line per webhook itself).
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import inspect
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vns_sdk.exceptions import ConfigurationError

if TYPE_CHECKING:
    import uvicorn

__all__ = [
    "EXTRA_HINT",
    "STARTUP_FAILURE",
    "HttpChoice",
    "LoopChoice",
    "ServerOptions",
    "event_loop",
    "fast_loop_available",
    "fast_parser_available",
    "http_parser",
    "http_protocol",
    "inherited_socket",
    "build_config",
    "run",
]

HttpChoice = Literal["auto", "httptools", "h11"]
LoopChoice = Literal["auto", "uvloop", "asyncio"]

EXTRA_HINT = "pip install 'vns-sdk[server]'"
STARTUP_FAILURE = 3
"""The exit status when the server could not start (uvicorn's)."""


@dataclass(frozen=True)
class ServerOptions:
    """How to serve an ASGI application.

    Attributes:
        app: The application as ``module:attr``, imported by each worker.
        app_dir: The folder to import the module from (put first on ``sys.path``).
        host: The interface to listen on.
        port: The TCP port to listen on.
        uds: Listen on this Unix socket instead of a TCP port.
        fd: Serve on this inherited, already listening socket instead.
        workers: The number of worker processes.
        forwarded_allow_ips: The addresses (comma-separated IPs or networks, ``*`` for any) whose
            ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed.
        graceful_timeout: Seconds the requests in progress get to finish at shutdown.
        keep_alive: Seconds an idle connection (new or kept alive) stays open, and a request's head (its
            request line and headers) may take to arrive.
        http: The HTTP parser: httptools (C), h11 (pure Python), or the fastest installed.
        loop: The event loop: uvloop, asyncio, or the fastest installed.
        log_level: The level of uvicorn's and the app's loggers.
        access_log: Also log every request in uvicorn's access log.
        log_config: A logging configuration file (``.json``, ``.yaml``, ``.ini``) used instead of the default.
    """

    app: str
    app_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    fd: int | None = None
    workers: int = 1
    forwarded_allow_ips: str = "127.0.0.1,::1"
    graceful_timeout: int = 30
    keep_alive: int = 5
    http: HttpChoice = "auto"
    loop: LoopChoice = "auto"
    log_level: str = "info"
    access_log: bool = False
    log_config: str | None = None


def fast_parser_available() -> bool:
    """Whether httptools, uvicorn's C HTTP parser, is installed."""
    return importlib.util.find_spec("httptools") is not None


def fast_loop_available() -> bool:
    """Whether uvloop is installed (and can run here: it does not on Windows)."""
    return sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None


def http_parser(choice: HttpChoice = "auto") -> Literal["httptools", "h11"]:
    """The HTTP parser for a ``--http`` choice.

    Raises:
        ConfigurationError: httptools was asked for and is not installed.
    """
    if choice == "httptools" and not fast_parser_available():
        raise ConfigurationError(f"the httptools HTTP parser is not installed: {EXTRA_HINT}")
    if choice == "h11" or not fast_parser_available():
        return "h11"
    return "httptools"


def http_protocol(parser: Literal["httptools", "h11"]) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class for a parser, with Nagle's algorithm off."""
    if parser == "httptools":
        from vns_sdk._server.nodelay_httptools import NoDelayHttpToolsProtocol

        return NoDelayHttpToolsProtocol
    from vns_sdk._server.nodelay import NoDelayH11Protocol

    return NoDelayH11Protocol


def event_loop(choice: LoopChoice = "auto") -> Literal["uvloop", "asyncio"]:
    """The event loop for a ``--loop`` choice, as uvicorn names it.

    Raises:
        ConfigurationError: uvloop was asked for and is not installed.
    """
    if choice == "uvloop" and not fast_loop_available():
        raise ConfigurationError(f"the uvloop event loop is not installed: {EXTRA_HINT}")
    if choice == "asyncio" or not fast_loop_available():
        return "asyncio"
    return "uvloop"


def _log_config(level: str) -> dict[str, Any]:
    import uvicorn.config

    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    # The app's own lines (one per webhook at INFO, warnings, errors) in the same format as the server's.
    config["loggers"]["vns_sdk"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def build_config(options: ServerOptions, app: Any = None) -> uvicorn.Config:
    """The `uvicorn.Config` for these options.

    Args:
        options: How to serve.
        app: The application itself, already imported (one worker); by default each worker imports
            ``options.app``.

    Raises:
        ConfigurationError: A parser or loop that was asked for is not installed.
    """
    import uvicorn

    return uvicorn.Config(
        app if app is not None else options.app,
        host=options.host,
        port=options.port,
        uds=options.uds,
        workers=options.workers,
        http=http_protocol(http_parser(options.http)),
        loop=event_loop(options.loop),
        proxy_headers=True,
        forwarded_allow_ips=options.forwarded_allow_ips,
        timeout_graceful_shutdown=options.graceful_timeout,
        timeout_keep_alive=options.keep_alive,
        log_config=options.log_config or _log_config(options.log_level),
        log_level=options.log_level,
        access_log=options.access_log,
    )


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind a file descriptor, with its real family (TCP or Unix).

    Raises:
        ConfigurationError: The descriptor is not an open, listening stream socket.
    """
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise ConfigurationError(f"--fd {fd}: not an open socket ({exc.strerror or exc})") from None
    try:
        listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    except OSError:  # pragma: no cover - every Unix answers SO_ACCEPTCONN for a socket
        listening = 1
    if sock.type != socket.SOCK_STREAM or not listening:
        sock.detach()  # not ours to close
        raise ConfigurationError(f"--fd {fd}: not a listening stream socket")
    sock.set_inheritable(True)
    return sock


def _supervisor(config: uvicorn.Config, sockets: list[socket.socket]) -> Any:
    from uvicorn import Server
    from uvicorn.supervisors.multiprocess import Multiprocess

    class Supervisor(Multiprocess):
        """uvicorn's supervisor, letting go of the listening socket when it stops its workers.

        The workers close their copies as their graceful shutdown begins; while the supervisor kept its own,
        the port went on accepting connections that no worker would ever serve, so a client (or a load
        balancer's probe) hung until the shutdown ended instead of being refused at once.
        """

        def terminate_all(self) -> None:
            for listening in self.sockets:
                listening.close()
            super().terminate_all()

    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.51
        return Supervisor(config, target=Server(config).run, sockets=sockets)  # type: ignore[call-arg]
    return Supervisor(config, sockets=sockets)


def run(options: ServerOptions, app: Any = None) -> int:
    """Serve until SIGTERM or Ctrl+C, then shut down gracefully.

    Args:
        options: How to serve.
        app: The application, already imported, for one worker (several workers each import ``options.app``).

    Returns:
        The exit status: 0, or `STARTUP_FAILURE` when the server (or every worker) could not start.

    Raises:
        ConfigurationError: A parser or loop asked for is not installed, or ``fd`` is not a listening socket.
    """
    from uvicorn import Server

    if options.app_dir is not None and str(options.app_dir) not in sys.path:
        sys.path.insert(0, str(options.app_dir))  # workers inherit sys.path
    sockets = [inherited_socket(options.fd)] if options.fd is not None else None
    config = build_config(options, app if options.workers == 1 else None)
    try:
        if options.workers == 1:
            server = Server(config)
            server.run(sockets=sockets)
            return 0 if server.started else STARTUP_FAILURE
        supervisor = _supervisor(config, sockets or [config.bind_socket()])
        supervisor.run()
        exit_codes = [process.exitcode for process in getattr(supervisor, "processes", [])]
        return STARTUP_FAILURE if exit_codes and all(code == STARTUP_FAILURE for code in exit_codes) else 0
    finally:
        if options.uds and os.path.exists(options.uds):
            os.remove(options.uds)
