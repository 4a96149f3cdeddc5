"""The CallEnd webhook: run the ``@app.on_call_end`` handlers once per call, then forget the call.

The handlers see the call's final state: CallEnd waits for the call's lease, so for the tools of the call
that are still saving their changes, and in the same store step (`CallStateStore.end_call`, one round trip
to Redis) it claims the call's end (so the claim holds across workers sharing Redis) and takes the final
state. From then on the call's tool calls are answered ``410``, and a repeat of the CallEnd is answered with
success without running the handlers. A handler that fails is logged and answered with ``status: 1``; the
claim is kept, so a retry of that CallEnd does not run the handlers a second time (they may have acted
before failing).

When the store is down, CallEnd tries it again for up to the tool timeout, and then runs the handlers
anyway, with ``call.state`` empty and ``call.state_available`` false, and answers success. VNS's spec
promises no redelivery of a CallEnd, so an answer asking for one could be the last word on the call and
its handlers would never run; the price is that a CallEnd delivered twice while the store is down runs
its handlers twice (at least once, never zero times).
"""

from __future__ import annotations

import time

from vns_sdk._observe._events import observe_handler
from vns_sdk.app._access_log import log_webhook, logger
from vns_sdk.app._asgi import Receive, Scope, Send, send_json
from vns_sdk.app._intake import caller_record, read_webhook
from vns_sdk.app._runtime import Runtime
from vns_sdk.app._state_io import lease_seconds, retrying
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.models import CallEndRequest, CallEndResponse
from vns_sdk.state._tokens import new_token
from vns_sdk.state.base import ENDED, CallSnapshot, CallState

__all__ = ["CALL_END_DEDUPE_SECONDS", "ENDPOINT", "call_end"]

ENDPOINT = "call-end"
# How long a CallEnd is remembered, to recognize VNS's repeats of it.
CALL_END_DEDUPE_SECONDS = 24 * 3600


_SUCCESS = CallEndResponse.success()
_SUCCESS_BODY = _SUCCESS.model_dump_json(by_alias=True).encode()  # the usual answer, encoded once


async def _answer(send: Send, started: float, guid: str, response: CallEndResponse, outcome: str) -> None:
    body = _SUCCESS_BODY if response is _SUCCESS else response.model_dump_json(by_alias=True).encode()
    await send_json(send, 200, body)
    log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid)


def _longest_lease(runtime: Runtime) -> float:
    """The longest lease a tool of the app may hold: CallEnd waits that long at most for its turn."""
    timeouts = [tool.timeout for tool in runtime.tools if tool.timeout is not None]
    return lease_seconds(max([runtime.tool_timeout, *timeouts]))


async def _end_call(runtime: Runtime, guid: str, until: float) -> CallSnapshot | None:
    """The call's final record and state, its end claimed; ``ENDED`` for a repeat; ``None`` if the store cannot say."""
    store = runtime.store
    # It waits for the longest lease a tool may hold, and the state and the saves' tokens are kept as long after
    # the end: a tool's save tried again after a lost answer is still recognized. It is tried again as long as a
    # tool call of its own would be.
    wait = _longest_lease(runtime)
    # Tried again under one name: a try whose answer was lost is recognized, and its claim is not taken for a repeat.
    claimant = new_token()
    try:
        return await retrying(
            lambda: store.end_call(
                guid, claimant=claimant, wait_seconds=wait, lease_seconds=wait, ttl=CALL_END_DEDUPE_SECONDS
            ),
            until,
        )
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call state could not be read: %s", guid, exc)
    try:
        # One more try at recording the end alone, so that the call's tools are refused from now on.
        if not await store.claim_call_end(guid, CALL_END_DEDUPE_SECONDS, claimant=claimant):
            return ENDED
    except StateStoreError as exc:
        logger.error("CallEnd %s: its end could not be recorded (a repeat would run the handlers again): %s", guid, exc)
    return None


async def call_end(runtime: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one CallEnd webhook.

    Raises:
        WebhookError: The request is refused (credentials, body).
    """
    started = time.perf_counter()
    report = await read_webhook(runtime, scope, receive, CallEndRequest)
    guid = report.session_guid
    snapshot = await _end_call(runtime, guid, time.monotonic() + runtime.tool_timeout)
    if snapshot is not None and snapshot.ended:
        return await _answer(send, started, guid, _SUCCESS, "duplicate")
    outcome = "ok"
    if snapshot is None:
        runtime.state_faults.call_ends_without_state += 1
        logger.error("CallEnd %s: running the handlers without the call's state (call.state_available is false)", guid)
        outcome = "state_unavailable"
        record, state = None, CallState()
    else:
        record, state = snapshot.record, CallState(encoded=snapshot.state)
    failed = 0
    if runtime.end_handlers:  # the context is built for the handlers only
        if record is None:
            # The call is unknown here (stored during an outage, expired, or on a worker sharing no store): the
            # report says the rest.
            record = caller_record(report, max_seconds=runtime.max_seconds, started_at=0.0)
        call = CallContext.from_record(record, state, report=report)
        call.state_available = snapshot is not None
    for handler in runtime.end_handlers:
        try:
            await observe_handler("call_end", handler.name, guid, handler(call))
        except Exception:
            failed += 1
            logger.exception("CallEnd %s: handler %s failed", guid, handler.name)
    if failed:
        return await _answer(send, started, guid, CallEndResponse.failure("A CallEnd handler failed."), "handler_error")
    await _answer(send, started, guid, _SUCCESS, outcome)
