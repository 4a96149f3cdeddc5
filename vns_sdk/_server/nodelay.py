"""Nagle's algorithm off on every connection the server accepts.

A webhook answer is small, and the server writes it in pieces. With Nagle's algorithm on, a piece written
while an earlier one is still unacknowledged waits for the acknowledgement, which the client delays by up to
40 ms: every request after the first on a kept-alive connection pays that wait. asyncio turns the algorithm
off only when the listening socket says it is TCP, which a socket bound before the workers start (uvicorn
before 0.55) or inherited as a file descriptor does not; so the HTTP protocol turns it off itself, once per
connection, on any event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

from vns_sdk._server.head import HeadLimits

__all__ = ["NoDelayH11Protocol", "set_nodelay"]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Set ``TCP_NODELAY`` on the transport's socket; a socket that is not TCP (a Unix socket) is left as is.

    Args:
        transport: A connection's transport (asyncio's or uvloop's).
    """
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):  # not TCP (a Unix socket): there is no Nagle's algorithm to turn off
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(HeadLimits, H11Protocol):
    """uvicorn's h11 (pure-Python) HTTP protocol, with `set_nodelay` on each new connection and `HeadLimits`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
