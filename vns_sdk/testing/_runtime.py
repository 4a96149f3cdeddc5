"""An HTTP client bound to the app under test: in process (with the app's lifespan) or at a URL."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, MutableMapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from vns_sdk.exceptions import SimulationError, VNSError

__all__ = ["IN_PROCESS_URL", "open_client"]

# The host an in-process app sees, as with starlette.testclient.
IN_PROCESS_URL = "http://testserver"

Message = MutableMapping[str, Any]


@asynccontextmanager
async def open_client(app: Any, url: str | None, *, request_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client for the app (run in process, lifespan included) or for the app served at `url`."""
    async with AsyncExitStack() as stack:
        if app is not None:
            state: dict[str, Any] = await stack.enter_async_context(_lifespan(app))
            transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=_with_state(app, state))
            base_url = IN_PROCESS_URL
        else:
            assert url is not None
            transport = httpx.AsyncHTTPTransport()
            base_url = url
        client = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=request_timeout)
        await stack.enter_async_context(client)
        yield client


def _with_state(app: Any, state: dict[str, Any]) -> Any:
    # Lifespan state (what a Starlette lifespan yields) must reach every request, as a server passes it.
    async def asgi(scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and "state" not in scope:
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return asgi


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    """Run the app's ASGI lifespan around the block, as a server does."""
    state: dict[str, Any] = {}
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    # Not subscripted: anyio 3 (which Starlette still allows) has no generic form.
    to_app: MemoryObjectSendStream[Message]
    app_inbox: MemoryObjectReceiveStream[Message]
    app_outbox: MemoryObjectSendStream[Message]
    from_app: MemoryObjectReceiveStream[Message]
    to_app, app_inbox = anyio.create_memory_object_stream(math.inf)
    app_outbox, from_app = anyio.create_memory_object_stream(math.inf)
    failure: list[BaseException] = []

    async def run() -> None:
        try:
            await app(scope, app_inbox.receive, app_outbox.send)
        except Exception as exc:
            failure.append(exc)
        finally:
            await app_outbox.send({"type": "lifespan.finished"})

    async with to_app, app_inbox, app_outbox, from_app, anyio.create_task_group() as group:
        group.start_soon(run)
        await to_app.send({"type": "lifespan.startup"})
        message = await from_app.receive()
        supported = True
        if message["type"] == "lifespan.startup.failed":
            await _drain(from_app, message)
            raise SimulationError(f"The app failed to start: {message.get('message') or _failure_text(failure)}")
        if message["type"] == "lifespan.finished":
            # An app that raises on the lifespan scope does not support it: the ASGI spec says to go on
            # without lifespan events, unless it refused to start for a reason of ours (a missing setting).
            if failure and isinstance(failure[0], VNSError):
                raise failure[0]
            supported = False
        try:
            yield state
        finally:
            if supported:
                await to_app.send({"type": "lifespan.shutdown"})
                message = await from_app.receive()
                await _drain(from_app, message)
                if message["type"] == "lifespan.shutdown.failed":
                    raise SimulationError(f"The app failed to shut down: {message.get('message') or ''}")


async def _drain(stream: Any, last: Message) -> None:
    # Wait for the app's lifespan coroutine to return, so its task ends inside the task group.
    while last["type"] != "lifespan.finished":
        last = await stream.receive()


def _failure_text(failure: list[BaseException]) -> str:
    return f"{type(failure[0]).__name__}: {failure[0]}" if failure else "no reason given"
