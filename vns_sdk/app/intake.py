"""The front door of CallStart and CallEnd: credentials, body size, JSON, shape.

Each check answers its own HTTP error (401, 413, 400, 422) with a JSON body, so a client's mistake is
never a 500.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from pydantic import BaseModel, ValidationError

from vns_sdk.app.access_log import log_webhook
from vns_sdk.app.asgi import BodyTooLarge, ClientDisconnected, Receive, Scope, Send, read_body, send_json
from vns_sdk.app.errors import error_body, validation_problems

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp
    from vns_sdk.models import CallEndRequest, CallStartRequest

__all__ = ["CallerFields", "caller_fields", "read_webhook", "reply_error"]

M = TypeVar("M", bound=BaseModel)

_UNAUTHORIZED = error_body("unauthorized", "Missing or wrong webhook credentials.")
_TOO_LARGE = error_body("too_large", "The request body is too large.")
_NOT_JSON = error_body("malformed_json", "The request body is not valid JSON.")
_BASIC_CHALLENGE = [(b"www-authenticate", b'Basic realm="vns"')]
_BEARER_CHALLENGE = [(b"www-authenticate", b'Bearer realm="vns"')]
# A JSON escape of a surrogate (\uD800 to \uDFFF): only a body holding one can decode to a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _loads(body: bytes) -> Any:
    """Decode a JSON body; raises `ValueError` unless it is JSON text that UTF-8 can carry.

    A lone surrogate escape (``"\\ud800"``) parses, but the string it makes cannot be encoded again: the
    answer, the tool token and the store would fail on it later, as a 500.
    """
    data = json.loads(body)
    if _SURROGATE_ESCAPE.search(body):
        json.dumps(data, ensure_ascii=False).encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return data


async def reply_error(
    send: Send, endpoint: str, started: float, status: int, outcome: str, body: bytes, **log: str | None
) -> None:
    """Send an error answer and log the webhook's line."""
    await send_json(send, status, body)
    log_webhook(endpoint, started, status, outcome, session_guid=log.get("session_guid"), tool=log.get("tool"))


async def read_webhook(
    app: VNSApp, scope: Scope, receive: Receive, send: Send, model: type[M], endpoint: str, started: float
) -> M | None:
    """Authenticate a CallStart/CallEnd request and parse its body as ``model``.

    Returns:
        The parsed request, or ``None`` when an error answer has already been sent.
    """
    auth = app._webhook_auth
    if auth.configured and not auth.check(scope["headers"]):
        challenge = _BASIC_CHALLENGE if app._basic_only else _BEARER_CHALLENGE
        await send_json(send, 401, _UNAUTHORIZED, challenge)
        log_webhook(endpoint, started, 401, "unauthorized")
        return None
    try:
        body = await read_body(scope, receive, app._max_body_size)
    except BodyTooLarge:
        await reply_error(send, endpoint, started, 413, "too_large", _TOO_LARGE)
        return None
    except ClientDisconnected:
        log_webhook(endpoint, started, 499, "disconnected")
        return None
    try:
        data = _loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser can follow
        await reply_error(send, endpoint, started, 400, "malformed_json", _NOT_JSON)
        return None
    if not isinstance(data, dict):
        problems = [{"field": "(body)", "problem": "The body must be a JSON object."}]
        message = "The request body does not have the expected shape."
        await reply_error(
            send, endpoint, started, 422, "invalid_request", error_body("invalid_request", message, problems=problems)
        )
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message = f"The request body is not a valid {model.__name__}."
        body = error_body("invalid_request", message, problems=validation_problems(exc))
        await reply_error(send, endpoint, started, 422, "invalid_request", body)
        return None


class CallerFields(TypedDict):
    """Who called whom, as CallStart and CallEnd both report it (the `CallContext` fields they share)."""

    session_guid: str
    customer_call_id: str | None
    caller_id: str | None
    caller_id_name: str | None
    called_number: str | None
    outbound: bool


def caller_fields(webhook: CallStartRequest | CallEndRequest) -> CallerFields:
    """The `CallContext` fields a CallStart or CallEnd request carries."""
    return CallerFields(
        session_guid=webhook.session_guid,
        customer_call_id=webhook.customer_call_id,
        caller_id=webhook.caller_id,
        caller_id_name=webhook.caller_id_name,
        called_number=webhook.called_number,
        outbound=bool(webhook.outbound_triggered),
    )
