"""The CallStart webhook: answer how to run the call, after the app's handlers had their say.

The answer is built from the app's configuration; ``@app.on_call_start`` handlers may tailor it (the
session, ``max_seconds``, ``customer_call_id``, the state) or refuse the call. They run under one time
budget: if a handler fails, runs past the budget or leaves something that cannot be answered, the call
is answered in the configured default form and the log says why, because a caller waiting on a silent
line is worse than a call without personalization.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vns_sdk.app.access_log import log_webhook, logger
from vns_sdk.app.asgi import Receive, Scope, Send, send_json
from vns_sdk.app.errors import error_body
from vns_sdk.app.intake import caller_fields, read_webhook
from vns_sdk.app.public_url import request_base_url
from vns_sdk.app.session import realtime_url
from vns_sdk.context import CallContext
from vns_sdk.exceptions import CallRefused, StateStoreError
from vns_sdk.models import (
    CallStartRequest,
    CallStartResponse,
    EndpointConfig,
    VoiceElementsInstructions,
)
from vns_sdk.state.base import CallRecord, CallState

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp

__all__ = ["handle_call_start"]

ENDPOINT = "call-start"
EVENT_ID = "start_1"


@dataclass
class _Answer:
    body: bytes
    record: CallRecord
    state: dict[str, str]
    ttl: float


def _context(app: VNSApp, request: CallStartRequest, state: CallState) -> CallContext:
    return CallContext(
        **caller_fields(request),
        state=state,
        session=app.build_session(),
        max_seconds=app._max_seconds,
        request=request,
    )


def _answer(app: VNSApp, scope: Scope, call: CallContext) -> _Answer:
    """Build the CallStart answer for ``call``; raises if a handler left something that cannot be sent."""
    session = call.session
    if session is None:
        raise TypeError("call.session was set to None")
    max_seconds = call.max_seconds
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, int) or max_seconds <= 0:
        raise ValueError(f"call.max_seconds must be a positive int, got {max_seconds!r}")
    customer_call_id = call.customer_call_id
    if customer_call_id is not None and not isinstance(customer_call_id, str):
        raise TypeError(f"call.customer_call_id must be a str or None, got {type(customer_call_id).__name__}")
    state = call.state.encoded()
    ttl = float(max_seconds + app._grace_seconds)
    token = app._tool_tokens.issue(call.session_guid, ttl)
    origin = app._public_url or request_base_url(scope, trust_forwarded=app._trust_forwarded)
    base = origin + scope.get("root_path", "")  # the path the app is mounted at, if any
    ai_headers = {"Authorization": f"Bearer {app._openai_api_key}"} if app._openai_api_key else {}
    response = CallStartResponse(
        voice_elements_instructions=VoiceElementsInstructions(
            ai_url=EndpointConfig(url=realtime_url(session.model or app._model), headers=ai_headers),
            max_seconds=max_seconds,
            customer_call_id=customer_call_id,
            default_tools_url_base=EndpointConfig(
                url=f"{base}{app.prefix}/tools", headers={"Authorization": f"Bearer {token}"}
            ),
            default_tools_url_adapter=app._tools_url_adapter,
        ),
        event_id=EVENT_ID,
        type="session.update",
        session=session,
    )
    body = response.model_dump_json(by_alias=True, exclude_unset=True).encode()
    record = CallRecord(
        session_guid=call.session_guid,
        customer_call_id=customer_call_id,
        caller_id=call.caller_id,
        caller_id_name=call.caller_id_name,
        called_number=call.called_number,
        outbound=call.outbound,
        max_seconds=max_seconds,
        started_at=time.time(),
    )
    return _Answer(body=body, record=record, state=state, ttl=ttl)


async def _run_handlers(app: VNSApp, call: CallContext) -> None:
    for handler in app._start_handlers:
        await handler(call)


async def handle_call_start(app: VNSApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one CallStart webhook."""
    started = time.perf_counter()
    request = await read_webhook(app, scope, receive, send, CallStartRequest, ENDPOINT, started)
    if request is None:
        return
    guid = request.session_guid
    initial: dict[str, str] = {}
    if request.customer_call_id:
        try:
            initial = await app.store.pop_dial_context(request.customer_call_id) or {}
        except StateStoreError as exc:
            logger.error("CallStart %s: the dial context could not be read: %s", guid, exc)
    call = _context(app, request, CallState(encoded=initial))
    outcome = "ok"
    answer: _Answer | None = None
    if app._start_handlers:
        budget = app._call_start_timeout
        call.deadline = time.monotonic() + budget
        try:
            await asyncio.wait_for(_run_handlers(app, call), timeout=budget)
            call.deadline = None
            answer = _answer(app, scope, call)
        except CallRefused as refused:
            await send_json(send, 403, error_body("call_refused", refused.reason))
            return log_webhook(ENDPOINT, started, 403, "refused", session_guid=guid)
        except asyncio.TimeoutError:
            logger.warning(
                "CallStart %s: the handlers ran past their %.1f s budget; answering the default form", guid, budget
            )
            outcome = "handler_timeout"
        except Exception:
            logger.exception("CallStart %s: a handler failed; answering the default form", guid)
            outcome = "handler_error"
    if answer is None:
        answer = _answer(app, scope, _context(app, request, CallState(encoded=initial)))
    if not app._openai_api_key:  # unset, or left empty (OPENAI_API_KEY= in .env)
        app._warn_no_openai_key()
    try:
        await app.store.start_call(answer.record, answer.state, answer.ttl)
    except StateStoreError as exc:
        # Answer anyway: the caller can still talk to the agent; its tool calls will say the service is down.
        logger.error("CallStart %s: the call could not be stored: %s", guid, exc)
        outcome = "store_unavailable"
    await send_json(send, 200, answer.body)
    log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid)
