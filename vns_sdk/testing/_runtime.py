"""The app under test: where it is (in process, lifespan included, or at a URL) and what VNS presents to it."""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pydantic import ValidationError

from vns_sdk.exceptions import ConfigurationError, SimulationError, VNSError
from vns_sdk.settings import VNSSettings
from vns_sdk.state._unsaveable import SCOPE_KEY as STATE_PROBLEMS
from vns_sdk.testing._checks import validation_problems

__all__ = ["SIMULATED", "AppTarget", "open_client"]

# The host an in-process app sees, as with starlette.testclient.
_IN_PROCESS_URL = "http://testserver"

Message = MutableMapping[str, Any]


@dataclass(frozen=True)
class AppTarget:
    """The app a simulated VNS calls: in process or at a URL, under which prefix, with which credentials.

    Attributes:
        app: The ASGI app driven in process, or ``None``.
        url: Instead, the base URL of a running app (no trailing slash).
        prefix: The path the app's routes live under.
        headers: The credentials VNS presents on CallStart and CallEnd.
    """

    app: Any
    url: str | None
    prefix: str
    headers: Mapping[str, str]

    @classmethod
    def resolve(cls, app: Any, *, url: str | None, webhook_token: str | None, prefix: str | None) -> AppTarget:
        """The target of a `VNSSimulator` (or a replay) given its arguments; see `VNSSimulator` for the defaults.

        Raises:
            ConfigurationError: Neither or both of `app` and `url` are given.
        """
        if (app is None) == (url is None):
            raise ConfigurationError("VNSSimulator needs either an app (VNSSimulator(app)) or a URL (url=...).")
        return cls(
            app=app,
            url=url.rstrip("/") if url else None,
            prefix=prefix if prefix is not None else str(getattr(getattr(app, "settings", None), "prefix", "/vns")),
            headers=_webhook_headers(app, webhook_token),
        )

    def client(self, timeout: float) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        """A client for the app, its lifespan running while the client is open (see `open_client`)."""
        return open_client(self.app, self.url, request_timeout=timeout)


def _webhook_headers(app: Any = None, webhook_token: str | None = None) -> dict[str, str]:
    """The credentials VNS presents on CallStart and CallEnd, for this app.

    The token given wins; else the app's own (a `VNSApp`'s first webhook token, in the header it is
    configured to read, or its Basic credentials); else ``VNS_WEBHOOK_TOKEN``. An app in insecure
    development mode needs none.

    Raises:
        ConfigurationError: The token comes from the environment, and a ``VNS_`` setting there is invalid.
    """
    settings = getattr(app, "settings", None)
    header = str(getattr(settings, "webhook_header", None) or "Authorization")
    token = webhook_token
    if token is None and settings is not None:
        tokens = getattr(settings, "webhook_token", None) or []
        tokens = [tokens] if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)) else tokens
        if tokens:
            token = _secret(tokens[0])
        else:
            basic = getattr(settings, "webhook_basic_auth", None) or []
            if basic:
                pair = base64.b64encode(_secret(basic[0]).encode()).decode()
                return {"Authorization": f"Basic {pair}"}
            if getattr(settings, "insecure_dev", False):
                return {}
    if token is None:
        token = _environment_token()
    if token is None:
        return {}
    return {header: f"Bearer {token}" if header.lower() == "authorization" else token}


def _environment_token() -> str | None:
    try:
        tokens = VNSSettings().webhook_token
    except ValidationError as exc:
        raise ConfigurationError(
            "invalid VNS setting in the environment: " + "; ".join(validation_problems(exc))
        ) from None
    return tokens[0].get_secret_value() if tokens else None


def _secret(value: Any) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


@asynccontextmanager
async def open_client(app: Any, url: str | None, *, request_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client for the app (run in process, lifespan included) or for the app served at `url`."""
    async with AsyncExitStack() as stack:
        if app is not None:
            state: dict[str, Any] = await stack.enter_async_context(_lifespan(app))
            transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=_with_state(app, state))
            base_url = _IN_PROCESS_URL
        else:
            assert url is not None
            transport = httpx.AsyncHTTPTransport()
            base_url = url
        client = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=request_timeout)
        await stack.enter_async_context(client)
        yield client


SIMULATED = "vns_sdk.simulated"
"""The ASGI scope extension an in-process app's requests carry: the caller is the simulator, not VNS."""


def _with_state(app: Any, state: dict[str, Any]) -> Any:
    # Lifespan state (what a Starlette lifespan yields) must reach every request, as a server passes it. The
    # extension tells the app that no VNS is on the line (it needs no OpenAI key for this call); a scope
    # extension comes from the server, never from a request, so no client can claim it. And each request
    # carries a list for the app to name what call.state could not hold: in production that is a log line
    # and the model still gets its answer; under test it fails the test that caused it.
    async def asgi(scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        problems: list[str] = []
        extensions = {**(scope.get("extensions") or {}), SIMULATED: {}}
        scope = {**scope, "extensions": extensions, STATE_PROBLEMS: problems}
        if "state" not in scope:
            scope["state"] = dict(state)
        await app(scope, receive, send)
        if problems:
            raise SimulationError(
                "The app could not keep what a handler put in call.state (in production this is only logged):\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )

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
