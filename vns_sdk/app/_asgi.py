"""Raw ASGI plumbing: read a request body under a size cap and a time limit, send a JSON answer.

The webhooks are served on ASGI messages, without a framework's request and response objects, because
a tool call is dead air on a live phone call and every microsecond of overhead is heard.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

from vns_sdk._deadline import DeadlineExceeded, resume_until, run_until
from vns_sdk.app._access_log import log_webhook
from vns_sdk.app._errors import WebhookError

__all__ = [
    "ClientDisconnected",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "announced_too_large",
    "answer_error",
    "body_timed_out",
    "body_too_large",
    "read_body",
    "message_within",
    "receive_rest",
    "route_path",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ClientDisconnected(Exception):
    """The client went away before the body was read: there is nobody to answer."""


def route_path(scope: Scope) -> str:
    """The request's path below the path the app is mounted at."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :]
    return path


# The answers given before the whole body is read close the connection: the rest of the body may still come.
_CLOSE = [(b"connection", b"close")]


def body_too_large(session_guid: str | None = None) -> WebhookError:
    """The 413 answered for a body over the limit (announced or counted); the connection is closed after it."""
    return WebhookError(413, "too_large", "The request body is too large.", headers=_CLOSE, session_guid=session_guid)


def body_timed_out(session_guid: str | None = None) -> WebhookError:
    """The 408 answered for a body that did not arrive in time; the connection is closed after it.

    The rest of the body may still be on its way: the connection cannot carry another request, and closing
    it frees the server from a client that holds it open.
    """
    return WebhookError(
        408,
        "request_timeout",
        "The request body did not arrive in time.",
        outcome="body_timeout",
        headers=_CLOSE,
        session_guid=session_guid,
    )


async def message_within(awaiting: Awaitable[Message], deadline: float) -> Message:
    """The message ``awaiting`` (a ``receive()``) gives, waited for until ``deadline`` (a `time.monotonic` value).

    A message already there (the usual case: a small body arrives with its headers) costs no timer.

    Raises:
        WebhookError: 408, the deadline passed first.
    """
    try:
        return await run_until(awaiting, deadline)
    except DeadlineExceeded:
        raise body_timed_out() from None


async def receive_rest(receiving: Coroutine[Any, Any, Message], step: Any, deadline: float) -> Message:
    """The message of a ``receive()`` coroutine that suspended at its first step (yielding ``step``), waited for
    until ``deadline`` at most: `message_within` for a caller that took the first step itself.

    Raises:
        WebhookError: 408, the deadline passed first.
    """
    try:
        return await resume_until(receiving, step, deadline)
    except DeadlineExceeded:
        raise body_timed_out() from None


async def read_body(
    scope: Scope,
    receive: Receive,
    limit: int,
    deadline: float,
    *,
    checked_length: bool = False,
    first: Message | None = None,
) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes or a body slower than ``deadline``.

    The ``Content-Length`` header is checked first, then the bytes actually received are counted, since
    a chunked request announces no length and a lying client may announce a false one.

    Args:
        scope: The request's scope.
        receive: The request's receive channel.
        limit: The largest body accepted, in bytes.
        deadline: When the whole body must have arrived (a `time.monotonic` value).
        checked_length: The caller has already checked the ``Content-Length`` header.
        first: The first message, if the caller has already received it.

    Raises:
        WebhookError: 413, the body is (or says it is) over ``limit`` bytes; 408, it did not arrive by
            ``deadline``.
        ClientDisconnected: The client disconnected before the end of the body.
    """
    if not checked_length:
        for name, value in scope["headers"]:
            if name.lower() == b"content-length":
                if announced_too_large(value, limit):
                    raise body_too_large()
                break
    message = first if first is not None else await message_within(receive(), deadline)
    if message["type"] != "http.request":
        raise ClientDisconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise body_too_large()
        return body
    chunks = [body]
    size = len(body)
    while True:
        if size > limit:
            raise body_too_large()
        message = await message_within(receive(), deadline)
        if message["type"] != "http.request":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    if size > limit:
        raise body_too_large()
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


async def answer_error(send: Send, endpoint: str, started: float, error: WebhookError) -> None:
    """Answer a refused request and log its line: the one place a `WebhookError` becomes a response."""
    await send_json(send, error.status, error.body, error.headers)
    level = logging.DEBUG if error.status == 405 else logging.INFO
    log_webhook(
        endpoint, started, error.status, error.outcome, session_guid=error.session_guid, tool=error.tool, level=level
    )
