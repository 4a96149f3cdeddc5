"""The server's HTTP protocols set TCP_NODELAY on connections that asyncio would leave with Nagle's algorithm on.

The listening socket here is made as uvicorn (before 0.55) binds one for its workers and as a socket passed
by file descriptor looks: without ``IPPROTO_TCP`` as its protocol, so asyncio does not set the option itself.
The same check on uvicorn's plain protocol reads 0, which shows the check can fail.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vns_sdk._server.nodelay import NoDelayH11Protocol, set_nodelay
from vns_sdk._server.nodelay_httptools import NoDelayHttpToolsProtocol


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _listener_without_tcp_protocol() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as a pre-bound worker socket
    sock.bind(("127.0.0.1", 0))
    assert sock.proto == 0
    return sock


async def _started(server: uvicorn.Server) -> None:
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)


async def _nodelay_of_served_connections(protocol: type[asyncio.Protocol]) -> list[int]:
    """Serve one kept-alive request with `protocol` on a proto-0 listener; the flag of each open connection."""
    listener = _listener_without_tcp_protocol()
    config = uvicorn.Config(_ok, http=protocol, lifespan="off", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await asyncio.wait_for(_started(server), 30)
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
        flags = [
            connection.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for connection in server.server_state.connections
        ]
        writer.close()
        return flags
    finally:
        server.should_exit = True
        await serving


def _run(loop_factory: Callable[[], asyncio.AbstractEventLoop], protocol: type[asyncio.Protocol]) -> list[int]:
    loop = loop_factory()
    try:
        return loop.run_until_complete(_nodelay_of_served_connections(protocol))
    finally:
        loop.close()


LOOPS = {"asyncio": asyncio.new_event_loop}
try:
    import uvloop

    LOOPS["uvloop"] = uvloop.new_event_loop
except ImportError:  # pragma: no cover - the dev extra installs it
    pass


@pytest.mark.parametrize("loop", sorted(LOOPS))
@pytest.mark.parametrize("protocol", [NoDelayH11Protocol, NoDelayHttpToolsProtocol], ids=["h11", "httptools"])
def test_every_accepted_connection_gets_nodelay(loop: str, protocol: type[asyncio.Protocol]) -> None:
    assert _run(LOOPS[loop], protocol) == [1]


@pytest.mark.parametrize("protocol", [H11Protocol, HttpToolsProtocol], ids=["h11", "httptools"])
def test_without_them_asyncio_leaves_nagle_on(protocol: type[asyncio.Protocol]) -> None:
    # The guard of the test above: on this listener uvicorn's own protocols leave the option off.
    assert _run(asyncio.new_event_loop, protocol) == [0]


class _Transport(asyncio.BaseTransport):
    def __init__(self, sock: socket.socket | None) -> None:
        super().__init__()
        self._sock = sock

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._sock if name == "socket" else default


def test_a_unix_socket_or_no_socket_is_left_alone() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        set_nodelay(_Transport(left))  # no TCP option on a Unix socket: nothing raised
    set_nodelay(_Transport(None))
