"""Raw ASGI plumbing: read a request body under a size cap, send a JSON answer.

The webhooks are served straight on ASGI, without a framework's request and response objects, because
a tool call is dead air on a live phone call and every microsecond of overhead is heard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "JSON_HEADERS",
    "BodyTooLarge",
    "ClientDisconnected",
    "Message",
    "announced_too_large",
    "Receive",
    "Scope",
    "Send",
    "read_body",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADERS: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]


class BodyTooLarge(Exception):
    """The request body is over the configured limit (announced or counted)."""


class ClientDisconnected(Exception):
    """The client went away before the body was read."""


async def read_body(scope: Scope, receive: Receive, limit: int, *, checked_length: bool = False) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes.

    The ``Content-Length`` header is checked first, then the bytes actually received are counted, since
    a chunked request announces no length and a lying client may announce a false one.

    Args:
        scope: The request's scope.
        receive: The request's receive channel.
        limit: The largest body accepted, in bytes.
        checked_length: The caller has already checked the ``Content-Length`` header.

    Raises:
        BodyTooLarge: The body is, or says it is, over ``limit`` bytes.
        ClientDisconnected: The client disconnected before the end of the body.
    """
    if not checked_length:
        for name, value in scope["headers"]:
            if name.lower() == b"content-length":
                if announced_too_large(value, limit):
                    raise BodyTooLarge
                break
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks = [body]
    size = len(body)
    while True:
        if size > limit:
            raise BodyTooLarge
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    if size > limit:
        raise BodyTooLarge
    return b"".join(chunks)


def announced_too_large(content_length: bytes, limit: int) -> bool:
    """Whether a ``Content-Length`` value announces more than ``limit`` bytes (a bad value announces nothing)."""
    try:
        return int(content_length) > limit
    except ValueError:
        return False


async def send_json(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a complete JSON answer (``body`` is already encoded)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
