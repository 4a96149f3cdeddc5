"""The inspector page: a Starlette app serving the page, its event stream and the copies of a call.

Routes, below wherever the app mounts it (``<prefix>/inspector``):

* ``/``: the page, and its script and style, from the package's ``static/`` folder (nothing from a CDN);
* ``/events``: the feed as server-sent events; each event's id is its record's, so a page that
  reconnects (``Last-Event-ID``) gets only what it missed (each stream ends after `STREAM_SECONDS`, and
  the page reconnects);
* ``/calls/{guid}/scenario.vns.yaml`` and ``/calls/{guid}/transcript.jsonl``: one call, written out;
* ``/chat...``: the chat with the agent through the Realtime model (`vns_sdk._observe._chat_routes`), when
  the app gives one.

Every answer carries a content security policy that allows nothing from elsewhere. With ``authorized``
given, a request without the credentials it accepts gets a 401 asking for HTTP Basic credentials, which
a browser prompts for and then sends with every request of the page, its event stream included.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vns_sdk._observe._chat_room import ChatRoom
from vns_sdk._observe._chat_routes import chat_routes
from vns_sdk._observe._copy import scenario_text, transcript_text
from vns_sdk._observe._feed import Feed

__all__ = ["KEEP_ALIVE_SECONDS", "STREAM_SECONDS", "inspector_app"]

KEEP_ALIVE_SECONDS = 15.0
"""How often an idle event stream sends a comment, so proxies keep it open."""
STREAM_SECONDS = 60.0
"""How long one event stream lasts before the page reconnects (from where it was): an open page never
holds a server's graceful shutdown for longer."""

Authorize = Callable[[Sequence[tuple[bytes, bytes]]], bool]

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        b"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
_UNAUTHORIZED = b'{"error":"unauthorized","message":"Sign in with the webhook credentials."}'


def _last_id(request: Request) -> int:
    for value in (request.headers.get("last-event-id"), request.query_params.get("after")):
        if value and value.isdigit():
            return int(value)
    return 0


async def _stream(feed: Feed, after: int) -> AsyncIterator[str]:
    subscription = feed.subscribe()
    until = time.monotonic() + STREAM_SECONDS
    try:
        yield "retry: 1000\n\n"
        while time.monotonic() < until:
            subscription.clear()  # before reading: a record published after this wakes the wait below
            batch = feed.since(after)
            if batch:
                after = batch[-1][0]
                yield "".join(f"id: {number}\ndata: {text}\n\n" for number, text in batch)
            elif not await subscription.wait(KEEP_ALIVE_SECONDS):
                yield ": keep-alive\n\n"
    finally:
        feed.unsubscribe(subscription)


class _Guarded:
    """The page's routes behind the credentials, every answer with the security headers."""

    def __init__(self, app: ASGIApp, authorized: Authorize | None) -> None:
        self.app = app
        self.authorized = authorized

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.authorized is not None and not self.authorized(scope["headers"]):
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                (b"www-authenticate", b'Basic realm="vns-sdk inspector", charset="UTF-8"'),
                *_SECURITY_HEADERS,
            ]
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": _UNAUTHORIZED})
            return None

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, secured)


def inspector_app(
    feed: Feed, *, authorized: Authorize | None, app_reference: str | None = None, chat: ChatRoom | None = None
) -> ASGIApp:
    """The inspector's ASGI app, showing ``feed``.

    Args:
        feed: The app's feed.
        authorized: Whether a request's headers carry accepted credentials; ``None`` serves everyone.
        app_reference: The app, as a scenario names it (``/path/app.py:app``), for copied scenarios.
        chat: The app's chats with the agent, served under ``/chat`` behind the same credentials.
    """

    async def events(request: Request) -> Response:
        return StreamingResponse(
            _stream(feed, _last_id(request)), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
        )

    def _call(request: Request) -> tuple[str, list[dict[str, Any]]]:
        guid = request.path_params["guid"]
        return guid, feed.records(guid)

    async def scenario(request: Request) -> Response:
        guid, records = _call(request)
        if not records:
            return _unknown_call()
        text = scenario_text(records, session_guid=guid, app=app_reference)
        return PlainTextResponse(text, media_type="application/yaml")

    async def transcript(request: Request) -> Response:
        _, records = _call(request)
        if not records:
            return _unknown_call()
        return PlainTextResponse(transcript_text(records), media_type="application/jsonl")

    routes = [
        Route("/events", events, methods=["GET"]),
        Route("/calls/{guid}/scenario.vns.yaml", scenario, methods=["GET"]),
        Route("/calls/{guid}/transcript.jsonl", transcript, methods=["GET"]),
        *(chat_routes(chat) if chat is not None else ()),
        Mount("/", StaticFiles(packages=[("vns_sdk._observe", "static")], html=True)),
    ]
    return _Guarded(Router(routes=routes), authorized)


def _unknown_call() -> Response:
    message = "The inspector holds nothing of this call (unknown, or older than what it keeps)."
    return JSONResponse({"error": "unknown_call", "message": message}, status_code=404)
