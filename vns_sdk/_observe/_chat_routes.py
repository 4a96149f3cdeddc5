"""The inspector's chat over HTTP: JSON routes below the page (``<prefix>/inspector/chat``).

* ``GET chat``: whether a chat can start (or why not: no key, no ``realtime`` extra), and the limits;
* ``POST chat`` ``{"caller_id", "caller_id_name", "called_number"}`` (each optional): place a call and
  connect it to the model; answers the chat (its id, its sessionGuid, the model), 201;
* ``GET chat/{id}``: the chat, its turns so far, and how it ended;
* ``POST chat/{id}/say`` ``{"text"}``: the caller's line; answered once the agent has answered, with the turn;
* ``POST chat/{id}/hang-up``: hang up (CallEnd).

They are the inspector's routes, behind its guard (the webhook credentials). The ``POST`` routes take
JSON only (``Content-Type: application/json``), and nothing a browser marks as sent from another site: a
form elsewhere, which a browser would send with the page's credentials, cannot start a chat the model
bills. A body is read under `MAX_BODY` and the app's body time limit (``VNS_BODY_TIMEOUT``, 408), and its
text must be text UTF-8 can carry (a lone surrogate is a 400). Every refusal is ``{"error", "message"}``
with its status. No answer holds a key or a token: each string of it is masked before it is encoded, and
what the model or a tool said that UTF-8 cannot carry is shown replaced (U+FFFD), never refused.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from vns_sdk._json import JSONError, dumps_text, loads_text
from vns_sdk._observe._chat import Chat, ChatError, turn_json
from vns_sdk._observe._chat_room import ChatRoom
from vns_sdk._redaction import redact

__all__ = ["MAX_BODY", "MAX_FIELD", "chat_routes"]

MAX_BODY = 16 * 1024
"""The largest request body the chat's routes read, in bytes."""
MAX_FIELD = 64
"""The longest caller number or name, in characters."""

_CALLER_FIELDS = ("caller_id", "caller_id_name", "called_number")
# Refusals given before the whole body was read: the rest may still come, so the connection is closed after them.
_BODY_LEFT = frozenset({"too_large", "request_timeout"})
_CLOSE = {"connection": "close"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def chat_routes(room: ChatRoom) -> list[Route]:
    """The chat's routes, for the inspector's router."""

    def answer(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        # Every string scrubbed of the app's secrets (before encoding: escaped, a secret would no longer
        # match), made encodable, then redacted as transcripts are.
        text = dumps_text(redact(_shown(body, room.scrub)))
        return Response(text, status_code=status, media_type="application/json", headers=headers)

    def refuse(problem: ChatError, chat: Chat | None = None) -> Response:
        body: dict[str, Any] = {"error": problem.error, "message": problem.message}
        if chat is not None:
            body["chat"] = chat.summary(turns=False)
        return answer(body, problem.status, _CLOSE if problem.error in _BODY_LEFT else None)

    async def json_body(request: Request) -> dict[str, Any]:
        return await _json_body(request, room.body_timeout)

    async def status(request: Request) -> Response:
        return answer(room.status())

    async def start(request: Request) -> Response:
        try:
            fields = await json_body(request)
            caller = {name: _caller_field(fields, name) for name in _CALLER_FIELDS}
            base_url = f"{request.url.scheme}://{request.url.netloc}"
            chat = await room.start(caller, base_url=base_url, state=request.scope.get("state") or {})
        except ChatError as problem:
            return refuse(problem)
        return answer(chat.summary(), 201)

    async def show(request: Request) -> Response:
        try:
            chat = room.find(request.path_params["chat"])
        except ChatError as problem:
            return refuse(problem)
        return answer(chat.summary())

    async def say(request: Request) -> Response:
        chat: Chat | None = None
        try:
            chat = room.find(request.path_params["chat"])
            text = _text(await json_body(request), room.max_text)
            turn = await chat.say(text)
        except ChatError as problem:
            return refuse(problem, chat)
        return answer({"turn": turn_json(turn), "chat": chat.summary(turns=False)})

    async def hang_up(request: Request) -> Response:
        try:
            chat = room.find(request.path_params["chat"])
            await json_body(request)
        except ChatError as problem:
            return refuse(problem)
        await chat.hang_up()
        return answer(chat.summary())

    return [
        Route("/chat", status, methods=["GET"]),
        Route("/chat", start, methods=["POST"]),
        Route("/chat/{chat}", show, methods=["GET"]),
        Route("/chat/{chat}/say", say, methods=["POST"]),
        Route("/chat/{chat}/hang-up", hang_up, methods=["POST"]),
    ]


async def _json_body(request: Request, seconds: float) -> dict[str, Any]:
    """The request's JSON object (``{}`` for no body), from the page's own origin, read within ``seconds``.

    Raises:
        ChatError: Sent from another site, not JSON (or holding a lone surrogate), too large, too slow, or
            not an object; or the client went away mid-body (499: nobody is left to answer).
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise ChatError(403, "cross_site", "The chat takes requests from the inspector's own page only.")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise ChatError(415, "not_json", "Send the chat's requests as JSON (Content-Type: application/json).")
    body = await _read(request, seconds)
    if not body.strip():
        return {}
    try:
        value = loads_text(body)  # a lone surrogate could be neither shown nor sent on
    except JSONError:
        raise ChatError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ChatError(400, "invalid_json", "The request body must be a JSON object.")
    return value


async def _read(request: Request, seconds: float) -> bytes:
    too_large = ChatError(413, "too_large", f"A chat request holds at most {MAX_BODY} bytes.")
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > MAX_BODY:
        raise too_large

    async def whole() -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise too_large
        return bytes(body)

    try:
        return await asyncio.wait_for(whole(), seconds)
    except asyncio.TimeoutError:
        raise ChatError(408, "request_timeout", "The request body did not arrive in time.") from None
    except ClientDisconnect:
        raise ChatError(499, "disconnected", "The client went away before the end of its request.") from None


def _shown(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with every string (keys too) scrubbed of secrets and made encodable, and NaN or infinity as text."""
    if isinstance(value, str):
        text = scrub(value)
        return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
    if isinstance(value, dict):
        return {_shown(key, scrub): _shown(item, scrub) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(item, scrub) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # a model's NaN: shown as it wrote it
    return value


def _caller_field(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChatError(422, "invalid_caller", f"{name} must be text (or left out).")
    value = value.strip()
    if len(value) > MAX_FIELD:
        raise ChatError(422, "invalid_caller", f"{name} holds at most {MAX_FIELD} characters.")
    return value or None


def _text(fields: dict[str, Any], limit: int) -> str:
    text = fields.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ChatError(422, "empty", "Type something for the caller to say.")
    text = text.strip()
    if len(text) > limit:
        raise ChatError(413, "too_long", f"A line holds at most {limit} characters; this one has {len(text)}.")
    return text
