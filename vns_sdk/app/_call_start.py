"""The CallStart webhook: answer how to run the call, after the app's handlers had their say.

The answer is built from the app's configuration; ``@app.on_call_start`` handlers may tailor it (the
session, ``max_seconds``, ``customer_call_id``, the state) or refuse the call. They run under one time
budget: if a handler fails, runs past the budget or leaves something that cannot be answered, the call
is answered in the configured default form and the log says why, because a caller waiting on a silent
line is worse than a call without personalization. A state value that cannot be stored is left out
(and logged, naming the handler), the rest of the handlers' work kept.

CallStart takes no lease on the call's state: no other handler of the call can run before it answers,
since the tool token its tools need is in that answer. Storing the call is one store step; if the store
is down it is tried again within the handlers' budget, then the call is answered all the same: it is live
on its tool token, and its tools find the store when it is back (without the initial state, which the
log lists).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from vns_sdk._observe._events import observe_handler
from vns_sdk.app._access_log import log_webhook, logger, redactor
from vns_sdk.app._asgi import Receive, Scope, Send, send_json
from vns_sdk.app._errors import WebhookError
from vns_sdk.app._intake import caller_record, read_webhook
from vns_sdk.app._public_url import request_base_url
from vns_sdk.app._runtime import Runtime
from vns_sdk.app._start_answer import encode_ai_url, encode_answer, encode_session
from vns_sdk.app._state_io import STORE_PATIENCE, retrying, unsaveable
from vns_sdk.context import CallContext
from vns_sdk.endpoint import RealtimeEndpoint
from vns_sdk.exceptions import CallRefused, StateStoreError
from vns_sdk.models import CallStartRequest, RealtimeSession
from vns_sdk.state.base import CallRecord, CallState

__all__ = ["ENDPOINT", "call_start"]

ENDPOINT = "call-start"
EVENT_ID = "start_1"
_NO_KEY = (
    "No OpenAI API key (OPENAI_API_KEY): CallStart answers carry no aiUrl Authorization header, so "
    "VNS cannot open the Realtime session."
)
_NO_KEY_SIMULATED = "No OpenAI API key, and none is needed here: a simulated call opens no Realtime session."


@dataclass
class _Answer:
    body: bytes
    record: CallRecord
    state: dict[str, str]
    ttl: float
    credentials: bool


def _tools_url(runtime: Runtime, scope: Scope) -> str:
    origin = runtime.public_url or request_base_url(scope, trust_forwarded=runtime.trust_forwarded)
    return f"{origin}{scope.get('root_path', '')}{runtime.prefix}/tools"  # under the path the app is mounted at


def _default_answer(runtime: Runtime, scope: Scope, request: CallStartRequest, state: dict[str, str]) -> _Answer:
    """The answer in the configured form: no handler ran, or none left an answer that can be sent.

    No session is copied and nothing is validated again: the session and the ``aiUrl`` are the app's own,
    encoded once (`EncodedParts`), and the rest comes from a request that was validated on arrival.
    """
    encoded = runtime.encoded
    max_seconds = runtime.max_seconds
    ttl = float(max_seconds + runtime.grace_seconds)
    guid = request.session_guid
    body = encode_answer(
        ai_url=encoded.ai_url(),
        max_seconds=max_seconds,
        customer_call_id=request.customer_call_id,
        tools_url=_tools_url(runtime, scope),
        token=runtime.tool_tokens.issue(guid, ttl),
        adapter=runtime.tools_url_adapter,
        session=encoded.session(),
        event_id=EVENT_ID,
    )
    record = caller_record(request, max_seconds=max_seconds, started_at=time.time())
    return _Answer(body=body, record=record, state=state, ttl=ttl, credentials=bool(runtime.realtime.secrets))


def _saveable(initial: dict[str, str], state: CallState) -> dict[str, str]:
    """The state to store: what the handlers left, but for the values it cannot hold (reported as they appeared)."""
    updates, deleted, _ = state.saveable_diff()
    kept = {key: value for key, value in initial.items() if key not in deleted}
    kept.update(updates)
    return kept


def _tailored_answer(
    runtime: Runtime, scope: Scope, request: CallStartRequest, call: CallContext, initial: dict[str, str]
) -> _Answer:
    """The answer the handlers left in ``call``; raises if they left something that cannot be sent."""
    session = call.session
    if session is None:
        raise TypeError("call.session was set to None")
    if not isinstance(session, RealtimeSession):
        session = RealtimeSession.model_validate(session)  # what a CallStartResponse would do with it
    max_seconds = call.max_seconds
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, int) or max_seconds <= 0:
        raise ValueError(f"call.max_seconds must be a positive int, got {max_seconds!r}")
    customer_call_id = call.customer_call_id
    if customer_call_id is not None and not isinstance(customer_call_id, str):
        raise TypeError(f"call.customer_call_id must be a str or None, got {type(customer_call_id).__name__}")
    endpoint = call.realtime
    if not isinstance(endpoint, RealtimeEndpoint):
        raise TypeError(f"call.realtime must be a RealtimeEndpoint, got {type(endpoint).__name__}")
    state = _saveable(initial, call.state)
    ttl = float(max_seconds + runtime.grace_seconds)
    model = session.model or runtime.model
    if endpoint is runtime.realtime and model == runtime.encoded.model:
        ai_url = runtime.encoded.ai_url()
    else:
        ai_url = encode_ai_url(endpoint, model)
    body = encode_answer(
        ai_url=ai_url,
        max_seconds=max_seconds,
        customer_call_id=customer_call_id,
        tools_url=_tools_url(runtime, scope),
        token=runtime.tool_tokens.issue(call.session_guid, ttl),
        adapter=runtime.tools_url_adapter,
        session=encode_session(session),
        event_id=EVENT_ID,
    )
    if endpoint is not runtime.realtime:
        # A key chosen for this call (or a password in its URL) stays out of the logs and the inspector too.
        redactor.add(*endpoint.secrets, urlsplit(endpoint.url).password)
    record = replace(
        caller_record(request, max_seconds=max_seconds, started_at=time.time()), customer_call_id=customer_call_id
    )
    return _Answer(body=body, record=record, state=state, ttl=ttl, credentials=bool(endpoint.secrets))


async def _run_handlers(runtime: Runtime, scope: Scope, call: CallContext) -> None:
    reported: set[str] = set()
    for handler in runtime.start_handlers:
        await observe_handler("call_start", handler.name, call.session_guid, handler(call))
        # Each value the state cannot hold is told once, naming the handler that left it.
        _, _, bad = call.state.saveable_diff()
        new = [key for key in bad if key not in reported]
        if new:
            unsaveable(scope, f"CallStart handler {handler.name}", call.state, new)
            reported.update(new)


async def call_start(runtime: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one CallStart webhook.

    Raises:
        WebhookError: The request is refused (credentials, body), or a handler refused the call (403).
    """
    started = time.perf_counter()
    begun = time.monotonic()
    request = await read_webhook(runtime, scope, receive, CallStartRequest)
    guid = request.session_guid
    if runtime.tool_sources:
        # The tools of MCP servers brought in with include_mcp, listed again when their listing is stale.
        await runtime.refresh_tool_sources()
    initial: dict[str, str] = {}
    if request.customer_call_id:
        try:
            initial = await runtime.store.pop_dial_context(request.customer_call_id) or {}
        except StateStoreError as exc:
            logger.error("CallStart %s: the dial context could not be read: %s", guid, exc)
    outcome = "ok"
    answer: _Answer | None = None
    if runtime.start_handlers:
        # Only here is the session copied: the handlers may change it.
        record = caller_record(request, max_seconds=runtime.max_seconds, started_at=0.0)
        call = CallContext.from_record(
            record, CallState(encoded=initial), session=runtime.build_session(), request=request,
            realtime=runtime.realtime,
        )  # fmt: skip
        budget = runtime.call_start_timeout
        call.deadline = time.monotonic() + budget
        try:
            await asyncio.wait_for(_run_handlers(runtime, scope, call), timeout=budget)
            call.deadline = None
            answer = _tailored_answer(runtime, scope, request, call, initial)
        except CallRefused as refused:
            raise WebhookError(403, "call_refused", refused.reason, outcome="refused", session_guid=guid) from None
        except asyncio.TimeoutError:
            logger.warning(
                "CallStart %s: the handlers ran past their %.1f s budget; answering the default form", guid, budget
            )
            outcome = "handler_timeout"
        except Exception:
            logger.exception("CallStart %s: a handler failed; answering the default form", guid)
            outcome = "handler_error"
    if answer is None:
        answer = _default_answer(runtime, scope, request, initial)
    if not answer.credentials:  # no key set, or left empty (OPENAI_API_KEY= in .env)
        if "vns_sdk.simulated" in (scope.get("extensions") or {}):  # the test harness, not VNS, is calling
            runtime.warn_once(logger, "no_openai_key_simulated", _NO_KEY_SIMULATED, level=logging.INFO)
        else:
            runtime.warn_once(logger, "no_openai_key", _NO_KEY)
    store = runtime.store
    try:
        # Tried again within the handlers' budget: no tool call can come before this answer, so nothing waits.
        until = max(begun + runtime.call_start_timeout, time.monotonic() + STORE_PATIENCE)
        await retrying(lambda: store.start_call(answer.record, answer.state, answer.ttl), until)
    except StateStoreError as exc:
        # Answer anyway: the call is live on its tool token, and its tools find it once the store is back.
        runtime.state_faults.starts_not_stored += 1
        lost = ", ".join(map(repr, answer.state)) or "none"
        logger.error("CallStart %s: the call could not be stored: %s; initial state keys lost: %s", guid, exc, lost)
        outcome = "store_unavailable"
    await send_json(send, 200, answer.body)
    log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid)
