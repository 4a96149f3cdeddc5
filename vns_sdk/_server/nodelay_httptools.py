"""uvicorn's httptools HTTP protocol with Nagle's algorithm off (see `vns_sdk._server.nodelay`).

A module of its own because importing it needs httptools, which only the ``server`` extra installs.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vns_sdk._server.head import HeadLimits
from vns_sdk._server.nodelay import set_nodelay

__all__ = ["NoDelayHttpToolsProtocol"]


class NoDelayHttpToolsProtocol(HeadLimits, HttpToolsProtocol):
    """uvicorn's httptools (C parser) HTTP protocol, with `set_nodelay` on each new connection and `HeadLimits`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
