"""The webhook side of an inspector chat: calls placed on the app itself, in process, as VNS places them.

CallStart, each tool request and CallEnd go to the app's own ASGI app (`httpx.ASGITransport`: no socket),
through its routes and its webhook credentials, so they are served, observed and shown like any call's.
Each request carries the lifespan state the server gave the page's request, as the server would give it;
the app's lifespan is not run again (it is already running: this is the app being served).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from vns_sdk.testing._call import AsyncSimulatedCall

__all__ = ["InProcessCalls"]


class _Served:
    """The app as the server runs it for these requests: with the server's lifespan state."""

    def __init__(self, app: ASGIApp, state: Mapping[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served: MutableMapping[str, Any] = {**scope, "state": dict(self.state)}
        await self.app(served, receive, send)


class InProcessCalls:
    """Places calls on ``app`` in process, with the credentials VNS presents to it.

    Args:
        app: The app (a `VNSApp`): its webhooks are under its prefix.
        timeout: Seconds to wait for each webhook's answer.
    """

    def __init__(self, app: ASGIApp, *, timeout: float = 30.0) -> None:
        self.app = app
        self.timeout = timeout

    @asynccontextmanager
    async def call(
        self, body: dict[str, Any], *, base_url: str, state: Mapping[str, Any]
    ) -> AsyncIterator[AsyncSimulatedCall]:
        """Send CallStart (``body``), yield the call, and send CallEnd on leaving if it was not sent.

        Args:
            body: The CallStart body (`vns_sdk.testing._fakes.call_start_body`).
            base_url: The scheme and host the requests name (the page's: the app builds its tools URL from it).
            state: The lifespan state the server gives each request.

        Raises:
            SimulationError: The app refused the call, or answered something VNS could not use.
        """
        import httpx

        from vns_sdk.testing._call import AsyncSimulatedCall
        from vns_sdk.testing._runtime import AppTarget

        # The app's prefix and first webhook credential (none in insecure development), as the simulator finds them.
        target = AppTarget.resolve(self.app, url=None, webhook_token=None, prefix=None)
        transport = httpx.ASGITransport(app=_Served(self.app, state))
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=self.timeout) as client:
            call = AsyncSimulatedCall(client, body, prefix=target.prefix, webhook_headers=target.headers)
            await call.start()
            try:
                yield call
            except BaseException:
                if not call.ended:
                    with suppress(Exception):  # the failure that brought us here is the one to report
                        await call.end(1, "The chat failed.")
                raise
            if not call.ended:
                await call.end()
