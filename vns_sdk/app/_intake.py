"""The front door of CallStart and CallEnd: credentials, body size, JSON, shape.

Each check raises `WebhookError` with its own HTTP status (401, 413, 400, 422), so a client's mistake is
never a 500.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from vns_sdk._json import JSONError, loads_text
from vns_sdk._problems import field_problems
from vns_sdk.app._asgi import Receive, Scope, read_body
from vns_sdk.app._errors import WebhookError
from vns_sdk.state.base import CallRecord

if TYPE_CHECKING:
    from vns_sdk.app._runtime import Runtime
    from vns_sdk.models import CallEndRequest, CallStartRequest

__all__ = ["MALFORMED_JSON", "UNAUTHORIZED", "caller_record", "read_webhook"]

M = TypeVar("M", bound=BaseModel)

UNAUTHORIZED = "Missing or wrong webhook credentials."
MALFORMED_JSON = "The request body is not valid JSON."
_BASIC_CHALLENGE = [(b"www-authenticate", b'Basic realm="vns"')]
_BEARER_CHALLENGE = [(b"www-authenticate", b'Bearer realm="vns"')]


async def read_webhook(runtime: Runtime, scope: Scope, receive: Receive, model: type[M]) -> M:
    """Authenticate a CallStart/CallEnd request and parse its body as ``model``.

    Raises:
        WebhookError: The request is refused (401, 413, 408, 400, 422).
        ClientDisconnected: The client went away before the end of the body.
    """
    auth = runtime.webhook_auth
    if auth.configured and not auth.check(scope["headers"]):
        challenge = _BASIC_CHALLENGE if runtime.basic_only else _BEARER_CHALLENGE
        raise WebhookError(401, "unauthorized", UNAUTHORIZED, headers=challenge)
    body = await read_body(scope, receive, runtime.max_body_size, time.monotonic() + runtime.body_timeout)
    try:
        data = loads_text(body)
    except JSONError:
        raise WebhookError(400, "malformed_json", MALFORMED_JSON) from None
    if not isinstance(data, dict):
        problems = [{"field": "(body)", "problem": "The body must be a JSON object."}]
        raise WebhookError.invalid_request("The request body does not have the expected shape.", problems)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message = f"The request body is not a valid {model.__name__}."
        raise WebhookError.invalid_request(message, field_problems(exc)) from None


def caller_record(webhook: CallStartRequest | CallEndRequest, *, max_seconds: int, started_at: float) -> CallRecord:
    """Who called whom, as a CallStart or CallEnd request reports it: the record the call is kept under."""
    return CallRecord(
        session_guid=webhook.session_guid,
        customer_call_id=webhook.customer_call_id,
        caller_id=webhook.caller_id,
        caller_id_name=webhook.caller_id_name,
        called_number=webhook.called_number,
        outbound=bool(webhook.outbound_triggered),
        max_seconds=max_seconds,
        started_at=started_at,
    )
