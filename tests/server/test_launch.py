"""How the production server is put together: parser and loop choice, the uvicorn config, inherited sockets."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import socket
from collections.abc import Iterator
from importlib.machinery import ModuleSpec

import pytest

from vns_sdk._server import (
    EXTRA_HINT,
    ServerOptions,
    build_config,
    event_loop,
    fast_loop_available,
    fast_parser_available,
    http_parser,
    http_protocol,
)
from vns_sdk._server.launch import inherited_socket
from vns_sdk._server.nodelay import NoDelayH11Protocol
from vns_sdk._server.nodelay_httptools import NoDelayHttpToolsProtocol
from vns_sdk.exceptions import ConfigurationError


@pytest.fixture
def without_server_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """httptools and uvloop look uninstalled."""
    find_spec = importlib.util.find_spec

    def hide(name: str, *args: object) -> ModuleSpec | None:
        return None if name in ("httptools", "uvloop") else find_spec(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", hide)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # uvicorn.Config configures logging as it is built; put the loggers back as they were.
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "vns_sdk")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level) for name in names}
    propagate = {name: logging.getLogger(name).propagate for name in names}
    yield
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate[name]


def test_the_fast_parser_and_loop_are_chosen_when_installed() -> None:
    assert fast_parser_available() and fast_loop_available()  # the dev extra installs the server extra
    assert http_parser("auto") == "httptools" and event_loop("auto") == "uvloop"
    assert http_protocol("httptools") is NoDelayHttpToolsProtocol
    assert http_parser("h11") == "h11" and event_loop("asyncio") == "asyncio"


@pytest.mark.usefixtures("without_server_extra")
def test_without_the_server_extra_the_pure_python_ones_serve() -> None:
    assert not fast_parser_available() and not fast_loop_available()
    assert http_parser("auto") == "h11" and event_loop("auto") == "asyncio"
    assert http_protocol("h11") is NoDelayH11Protocol


@pytest.mark.usefixtures("without_server_extra")
def test_asking_for_a_missing_one_says_how_to_install_it() -> None:
    with pytest.raises(ConfigurationError, match=re.escape(f"httptools HTTP parser is not installed: {EXTRA_HINT}")):
        http_parser("httptools")
    with pytest.raises(ConfigurationError, match=re.escape(f"uvloop event loop is not installed: {EXTRA_HINT}")):
        event_loop("uvloop")


def test_the_uvicorn_config() -> None:
    options = ServerOptions(
        app="agent.app:app",
        host="0.0.0.0",
        port=9000,
        workers=3,
        forwarded_allow_ips="10.0.0.5",
        graceful_timeout=12,
        keep_alive=20,
        http="h11",
        loop="asyncio",
        log_level="warning",
    )
    config = build_config(options)
    assert (config.app, config.host, config.port, config.workers) == ("agent.app:app", "0.0.0.0", 9000, 3)
    assert config.http is NoDelayH11Protocol and config.loop == "asyncio"
    assert config.proxy_headers and config.forwarded_allow_ips == "10.0.0.5"
    assert config.timeout_graceful_shutdown == 12 and config.timeout_keep_alive == 20
    assert config.access_log is False
    assert isinstance(config.log_config, dict)
    assert config.log_config["loggers"]["vns_sdk"] == {"handlers": ["default"], "level": "WARNING", "propagate": False}


def test_the_default_trusts_forwarded_headers_from_loopback_only() -> None:
    config = build_config(ServerOptions(app="app:app"))
    assert config.forwarded_allow_ips == "127.0.0.1,::1"
    assert config.timeout_graceful_shutdown == 30


def test_an_inherited_tcp_listener_is_opened_as_tcp() -> None:
    # uvicorn's own --fd opens any descriptor as a Unix socket, and the event loop then treats it as one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sock = inherited_socket(os.dup(listener.fileno()))
        with sock:
            assert sock.family == socket.AF_INET and sock.type == socket.SOCK_STREAM
            assert sock.proto == socket.IPPROTO_TCP


def test_an_fd_that_is_not_a_listening_socket_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unbound:
        with pytest.raises(ConfigurationError, match=rf"--fd {unbound.fileno()}: not a listening stream socket"):
            inherited_socket(unbound.fileno())
        assert unbound.fileno() != -1  # still open: it was not ours to close
    read, write = os.pipe()
    os.close(write)
    os.close(read)
    with pytest.raises(ConfigurationError, match=rf"--fd {read}: not an open socket"):
        inherited_socket(read)
