"""The tools route: authenticate a tool call, find its call, run the tool, answer what the model hears.

This is the hot path of a live call, so it runs on raw ASGI: one pass over the headers, the body read
under a cap, stdlib ``json``, an HMAC check, one store read, the tool, and (only if the state changed)
one store write.

VNS names the tool and the call in one of seven ways, and the route accepts all of them whatever the
app answered in ``defaultToolsUrlAdapter``:

* ``POST /tools`` with a ``VoiceElements_InvokeTool`` object in the body (the adapter is ``null``);
* ``/tools/<tool>``, ``/tools/<tool>/<ccid>``, ``/tools/<guid>/<tool>/<ccid>``, ``/tools/<tool>/<guid>/<ccid>``;
* ``/tools?toolname=...&sessionguid=...[&customerCallId=...]``.

The two three-segment forms look alike; the sessionGuid the tool token was issued for tells them apart
(and, failing that, the registered tool names). An empty customerCallId segment means none.
"""

from __future__ import annotations

import json
import json.scanner
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from pydantic_core import from_json, to_json

from vns_sdk.app.access_log import log_webhook, logger
from vns_sdk.app.asgi import (
    BodyTooLarge,
    ClientDisconnected,
    Message,
    Receive,
    Scope,
    Send,
    announced_too_large,
    read_body,
    send_json,
)
from vns_sdk.app.auth import ToolTokenError
from vns_sdk.app.errors import error_body
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.state.base import CallState
from vns_sdk.tools.invoke import invoke_tool_body

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp

__all__ = ["WRAPPER_KEY", "handle_tool_call"]

WRAPPER_KEY = "VoiceElements_InvokeTool"
ENDPOINT = "tools"

_TOKEN_MESSAGES = {
    "missing": "This tool call carries no tool token: send the defaultToolsUrlBase headers of the CallStart answer.",
    "malformed": "The tool token is not valid.",
    "bad_signature": "The tool token is not valid.",
    "expired": "The tool token has expired with its call.",
    "mismatch": "The tool token belongs to another call.",
}
_TOO_LARGE = error_body("too_large", "The request body is too large.")
_NOT_JSON = error_body("malformed_json", "The request body is not valid JSON.")
_CALL_ENDED = error_body("call_ended", "This call has ended: its tools can no longer be called.")
_UNAVAILABLE = json.dumps(
    {"error": "unavailable", "message": "The service is briefly unavailable. Apologize and try again in a moment."}
).encode()


# JSON in and out goes through pydantic-core's parser and serializer (loaded with pydantic anyway): on a tool
# call's small objects they take half the time of the stdlib's C codec. The stdlib stays the judge: a body the
# fast parser refuses is parsed again by the stdlib (which accepts a few inputs it does not, such as a lone
# surrogate escape or very deep nesting), and a reply the fast serializer refuses goes through the checked
# stdlib encoder, which either encodes it or raises.

# The stdlib codec objects are built once: json.dumps with options builds a new encoder per call, and
# json.loads on bytes sniffs the encoding first.
_decoder = json.JSONDecoder()
_c_make_scanner = getattr(json.scanner, "c_make_scanner", None)
_scan = _c_make_scanner(_decoder) if _c_make_scanner is not None else None


def _parse(body: bytes) -> Any:
    """Decode a JSON body; raises `ValueError` if it is not UTF-8 JSON."""
    try:
        return from_json(body)
    except ValueError:
        return _parse_stdlib(body)


def _parse_stdlib(body: bytes) -> Any:
    text = body.decode()
    if _scan is not None and text[:1] == "{" and text[-1:] == "}":
        # A compact object: scan it directly, skipping decode()'s whitespace handling.
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            raise ValueError("no JSON value") from None
        if end == len(text):
            return value
    return _decoder.decode(text)


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _encode(value: Any) -> bytes:
    """Encode a reply body. It comes from `invoke_tool_body`, so it holds only str keys, str, int, finite
    float, bool, None, list and dict, without cycles: the two encoders agree on it (up to how an exponent
    is written, ``1e-7`` or ``1e-07``)."""
    try:
        return to_json(value)
    except ValueError:  # PydanticSerializationError, e.g. a lone surrogate: let the checked encoder raise
        return _encoder.encode(value).encode()


_UNSENDABLE = json.dumps(
    {"error": "error", "message": "The tool answered something that cannot be sent. Tell the caller it failed."}
).encode()


class _BadRequest(Exception):
    def __init__(self, status: int, error: str, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.problems = problems


def _raw_rest(scope: Scope, rest: str) -> str:
    """The path after ``/tools`` as sent, still percent-encoded (see `_names_from_path`), or ``rest`` itself."""
    raw: bytes | None = scope.get("raw_path")
    if not raw or b"%" not in raw:
        return rest
    raw_text = raw.decode("latin-1")
    # The decoded tail ends the path; its encoded form is the raw path's tail holding as many characters once
    # decoded. Find it by decoding ever longer tails: the encoded tail starts at a "/" of the raw path.
    start = raw_text.rfind("/tools")
    while start >= 0:
        tail = raw_text[start + 6 :]
        if tail.count("/") > 3:
            # Longer tails hold even more segments than any adapter form: the path is refused either way, and
            # decoding every one of them would cost time in the square of the path's length.
            break
        if unquote(tail) == rest:
            return tail
        start = raw_text.rfind("/tools", 0, start)
    return rest


def _names_from_path(app: VNSApp, rest: str, token_guid: str) -> tuple[str | None, str | None]:
    """``(tool_name, session_guid)`` named by the path after ``/tools`` (the customerCallId is not needed).

    ``rest`` may be percent-encoded (the raw path): a customerCallId holding an encoded ``/`` then stays one
    segment. Each segment is decoded on its own.
    """
    segments = [unquote(segment) if "%" in segment else segment for segment in rest[1:].split("/")]
    count = len(segments)
    if count == 1:
        return segments[0] or None, None
    if count == 2:
        return segments[0] or None, None
    if count == 3:
        first, second = segments[0], segments[1]
        if first == token_guid:
            return second, first
        if second == token_guid:
            return first, second
        if first in app.router and second not in app.router:
            return first, second
        return second, first
    raise _BadRequest(404, "not_found", "This tools URL fits none of the defaultToolsUrlAdapter forms.")


def _names_from_query(query: bytes) -> tuple[str | None, str | None]:
    tool = guid = None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        lowered = key.lower()
        if lowered == "toolname":
            tool = value or None
        elif lowered == "sessionguid":
            guid = value or None
    return tool, guid


def _replay(first: Message, receive: Receive) -> Receive:
    """A receive channel that gives ``first`` again, then what ``receive`` gives."""
    pending: list[Message] = [first]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


async def _unauthorized(send: Send, started: float, reason: str, tool: str | None = None) -> None:
    await send_json(send, 401, error_body("unauthorized", _TOKEN_MESSAGES[reason]))
    log_webhook(ENDPOINT, started, 401, f"token_{reason}", tool=tool)


async def handle_tool_call(app: VNSApp, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
    """Serve one tool call; ``rest`` is the path after ``<prefix>/tools`` (``""``, ``"/lookup"``, ...)."""
    started = time.perf_counter()
    authorization = None
    too_large = False
    # One pass over the headers (ASGI servers lowercase their names).
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"content-length":
            too_large = announced_too_large(value, app._max_body_size)
    if authorization is None or authorization[:7].lower() != b"bearer ":
        return await _unauthorized(send, started, "missing")
    try:
        guid = app._tool_tokens.verify(authorization[7:].strip())
    except ToolTokenError as exc:
        return await _unauthorized(send, started, exc.reason)

    try:
        if too_large:
            raise BodyTooLarge
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body = message.get("body", b"")  # the whole body in one message: the usual case
            if len(body) > app._max_body_size:
                raise BodyTooLarge
        else:
            body = await read_body(scope, _replay(message, receive), app._max_body_size, checked_length=True)
    except BodyTooLarge:
        await send_json(send, 413, _TOO_LARGE)
        return log_webhook(ENDPOINT, started, 413, "too_large", session_guid=guid)
    except ClientDisconnected:
        return log_webhook(ENDPOINT, started, 499, "disconnected", session_guid=guid)

    tool: str | None = None
    try:
        arguments: dict[str, Any] = {}
        if body.strip():
            try:
                parsed = _parse(body)
            # UnicodeDecodeError is a ValueError too; RecursionError is nesting deeper than the parser follows.
            except (ValueError, RecursionError):
                raise _BadRequest(400, "malformed_json", "The request body is not valid JSON.") from None
            if not isinstance(parsed, dict):
                raise _BadRequest(
                    422,
                    "invalid_request",
                    "The tool arguments must be a JSON object.",
                    [{"field": "(body)", "problem": "The body must be a JSON object."}],
                )
            arguments = parsed
        claimed: list[str | None] = []
        wrapper = arguments.pop(WRAPPER_KEY, None)
        if wrapper is not None:
            if not isinstance(wrapper, dict):
                raise _BadRequest(
                    422,
                    "invalid_request",
                    f"{WRAPPER_KEY} must be an object.",
                    [{"field": WRAPPER_KEY, "problem": "Input should be an object."}],
                )
            tool = wrapper.get("toolName") or None
            claimed.append(wrapper.get("sessionGuid"))
        if len(rest) > 1:
            path_tool, path_guid = _names_from_path(app, _raw_rest(scope, rest), guid)
            tool = path_tool or tool
            claimed.append(path_guid)
        query = scope.get("query_string")
        if query:
            query_tool, query_guid = _names_from_query(query)
            tool = query_tool or tool
            claimed.append(query_guid)
        if not isinstance(tool, str):
            raise _BadRequest(
                422,
                "invalid_request",
                "The tool call does not name a tool.",
                [{"field": "toolName", "problem": "Name the tool in the URL or in VoiceElements_InvokeTool."}],
            )
    except _BadRequest as exc:
        extra = {"problems": exc.problems} if exc.problems else {}
        await send_json(send, exc.status, error_body(exc.error, exc.message, **extra))
        return log_webhook(ENDPOINT, started, exc.status, exc.error, session_guid=guid, tool=tool)
    for other in claimed:
        if other and other != guid:
            return await _unauthorized(send, started, "mismatch", tool)

    store = app.store
    try:
        loaded = await store.load_call(guid)
    except StateStoreError as exc:
        logger.error("tool call %s: the call-state store failed: %s", tool, exc)
        await send_json(send, 200, _UNAVAILABLE)
        return log_webhook(ENDPOINT, started, 200, "store_unavailable", session_guid=guid, tool=tool)
    if loaded is None:
        await send_json(send, 410, _CALL_ENDED)
        return log_webhook(ENDPOINT, started, 410, "call_ended", session_guid=guid, tool=tool)

    record, encoded = loaded
    state = CallState._from_store(encoded)  # a fresh copy from the store: no need to copy it again
    call = CallContext.from_record(record, state, tool_name=tool)
    body_out, outcome_out = await invoke_tool_body(app.router, tool, arguments, call, app._tool_timeout)
    outcome: str = outcome_out
    try:
        updates, deleted = state.diff()
        for value in updates.values():
            if not value.isascii():
                # A lone surrogate (arguments may carry one, as the stdlib parses them) is no UTF-8: Redis
                # cannot store it, so no store gets it and every store behaves alike.
                value.encode()
    except (TypeError, UnicodeEncodeError) as exc:  # the tool stored what JSON cannot hold; its answer still goes out
        logger.error("tool call %s: the call state could not be saved: %s", tool, exc)
        updates, deleted, outcome = {}, [], "state_not_saved"
    if updates or deleted:
        ttl = max(1.0, record.started_at + record.max_seconds + app._grace_seconds - time.time())
        try:
            await store.save_state(guid, updates, deleted, ttl)
        except StateStoreError as exc:
            # The tool has already acted: the model still hears its answer, so it does not retry and act twice.
            logger.error("tool call %s: the call state could not be saved: %s", tool, exc)
            outcome = "state_not_saved"
    try:
        answer = _encode(body_out)
    except (TypeError, ValueError, RecursionError) as exc:
        logger.error("tool call %s: the reply is not JSON: %s", tool, type(exc).__name__)
        answer, outcome = _UNSENDABLE, "unsendable_reply"
    # send_json, inlined: one coroutine less on every tool call.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": answer})
    if logger.isEnabledFor(logging.INFO):  # log_webhook checks too; this skips the call when the line is off
        log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid, tool=tool)
