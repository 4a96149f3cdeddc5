"""A request's head (its request line and headers) bounded in time and size, for uvicorn's HTTP protocols.

uvicorn closes a kept-alive connection that stays idle ``--keep-alive`` seconds after a response, but it
arms no timer on a new connection nor while a request's head arrives: a client that connects and sends
nothing, or sends its headers a byte at a time, holds the connection for ever. Its httptools protocol also
keeps every header byte it is sent (h11 stops at 16 KiB). `HeadLimits` closes a connection whose request
head has not arrived ``--keep-alive`` seconds after the connection opened or the request's first byte, and
answers ``431`` to a head over `MAX_HEAD_SIZE` bytes.

A body that is slow to come is the app's to bound (``VNS_BODY_TIMEOUT``), until the app has answered: a
request refused before its body was read (a ``401``, a ``404``) leaves the rest of the body to come after the
answer. uvicorn stops its keep-alive timer when those bytes arrive and arms none again (it never marks that
body as ended), so a client sending them slowly, or pausing after them, would hold the connection for ever.
`HeadLimits` gives that rest of a body, and the head of the request after it, ``--keep-alive`` seconds from
the rest's first byte and `MAX_REST_SIZE` bytes in all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from vns_sdk.settings import DEFAULT_MAX_BODY_SIZE

__all__ = ["MAX_HEAD_SIZE", "MAX_REST_SIZE", "HeadLimits"]

MAX_HEAD_SIZE = 64 * 1024
"""The largest request head accepted, in bytes (a webhook's is well under a kilobyte)."""

MAX_REST_SIZE = DEFAULT_MAX_BODY_SIZE + MAX_HEAD_SIZE
"""The most a client may send after the answer to a request whose body was not read (the largest body the app
takes by default, and a head), in bytes."""

_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nThe request head is too large.\n"
)


class HeadLimits:
    """Mixin for uvicorn's h11 and httptools protocols (put it first among the bases).

    It relies on what both protocols have: ``transport``, ``cycle`` (the request being served, a new one
    for each request head parsed, with ``response_complete`` and ``more_body``), ``loop`` and
    ``timeout_keep_alive``.
    """

    transport: asyncio.Transport
    cycle: Any
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: int

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _rest_timer: asyncio.TimerHandle | None = None
    _rest_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._await_head()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        rest = cycle is not None and cycle.response_complete and cycle.more_body  # of a body answered early
        if rest:
            if self._rest_timer is None:
                self._rest_bytes = 0
                self._rest_timer = self.loop.call_later(self.timeout_keep_alive, self._too_slow)
            self._rest_bytes += len(data)
            if self._rest_bytes > MAX_REST_SIZE:
                # More than a body and a head after the answer: the next head may be growing unchecked (the
                # parser keeps it, while it drops the body). The client has its answer: close.
                self._rest_arrived()
                self.transport.close()
                return
        if self._head_timer is None and (cycle is None or (cycle.response_complete and not cycle.more_body)):
            self._await_head()  # the first byte of the next request (not the rest of a body answered early)
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)  # type: ignore[misc]
        if self._rest_timer is not None and self.cycle is not cycle:  # the next request's head has come
            self._rest_arrived()
        if self._head_timer is not None:
            if self.cycle is not cycle:
                self._head_arrived()
            elif self._head_bytes > MAX_HEAD_SIZE and not self.transport.is_closing():
                self._head_arrived()
                self.transport.write(_TOO_LARGE)
                self.transport.close()

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()  # type: ignore[misc]
        if self.cycle is not cycle:  # a pipelined request's head, parsed earlier, is served now
            self._head_arrived()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        self._rest_arrived()
        super().connection_lost(exc)  # type: ignore[misc]

    def _await_head(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_too_slow)

    def _head_arrived(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _rest_arrived(self) -> None:
        if self._rest_timer is not None:
            self._rest_timer.cancel()
            self._rest_timer = None

    def _too_slow(self) -> None:
        self._rest_timer = None
        self._head_too_slow()

    def _head_too_slow(self) -> None:
        self._head_timer = None
        # A connection upgraded to a WebSocket belongs to another protocol now: leave it alone.
        protocol: object = self.transport.get_protocol()
        if protocol is self and not self.transport.is_closing():
            self.transport.close()
