"""A webhook observed at the routing level: its route, its status, and (for the inspector) its bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from vns_sdk._observe._events import EventSource, WebhookObservation

__all__ = ["MAX_CAPTURED_BODY", "serve_observed"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_CAPTURED_BODY = 256 * 1024
"""Bytes of a body kept for the inspector; a longer body is shown as its size only."""


async def serve_observed(
    source: EventSource,
    name: str,
    route: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    serve: Callable[[Scope, Receive, Send], Awaitable[None]],
) -> None:
    """Run ``serve(scope, receive, send)`` as the observed webhook ``name`` at the route template ``route``."""
    observation = WebhookObservation(source, name, scope["method"], route, scope)

    async def watched_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            observation.status = message["status"]
        await send(message)

    observed_receive = receive
    observed_send = watched_send
    if source.capture_bodies:
        request_body = observation.request_body = bytearray()
        response_body = observation.response_body = bytearray()

        async def captured_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) <= MAX_CAPTURED_BODY:
                request_body.extend(message.get("body", b""))
            return message

        async def captured_send(message: Message) -> None:
            if message["type"] == "http.response.body" and len(response_body) <= MAX_CAPTURED_BODY:
                response_body.extend(message.get("body", b""))
            await watched_send(message)

        observed_receive, observed_send = captured_receive, captured_send

    source.begin(observation)
    try:
        await serve(scope, observed_receive, observed_send)
    except BaseException as exc:
        observation.error = exc
        raise
    finally:
        source.end(observation)
