"""The CallEnd webhook: run the ``@app.on_call_end`` handlers once per call, then forget the call.

VNS may deliver a CallEnd more than once. The first delivery claims the call in the store (so the claim
holds across workers sharing Redis); a repeat is answered with success without running the handlers.
A handler that fails is logged and answered with ``status: 1``; the claim is kept, so a retry of that
CallEnd does not run the handlers a second time (they may have acted before failing).
"""

from __future__ import annotations

import time

from vns_sdk.app._access_log import log_webhook, logger
from vns_sdk.app._asgi import Receive, Scope, Send, send_json
from vns_sdk.app._intake import caller_record, read_webhook
from vns_sdk.app._runtime import Runtime
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.models import CallEndRequest, CallEndResponse
from vns_sdk.state.base import CallState

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


async def call_end(runtime: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one CallEnd webhook.

    Raises:
        WebhookError: The request is refused (credentials, body).
    """
    started = time.perf_counter()
    report = await read_webhook(runtime, scope, receive, CallEndRequest)
    guid = report.session_guid
    store = runtime.store
    try:
        first = await store.claim_call_end(guid, CALL_END_DEDUPE_SECONDS)
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call-state store failed: %s", guid, exc)
        failure = CallEndResponse.failure("The call state store is unavailable.")
        return await _answer(send, started, guid, failure, "store_unavailable")
    if not first:
        return await _answer(send, started, guid, _SUCCESS, "duplicate")

    try:
        # The record and state are read for the handlers only (a round trip less to Redis without them).
        loaded = await store.load_call(guid) if runtime.end_handlers else None
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call state could not be read: %s", guid, exc)
        loaded = None
    if loaded is not None:
        record, encoded = loaded
        call = CallContext.from_record(record, CallState(encoded=encoded), report=report)
    elif runtime.end_handlers:
        # The call is unknown here (it expired, or started on a worker that shares no store): the report says the rest.
        record = caller_record(report, max_seconds=runtime.max_seconds, started_at=0.0)
        call = CallContext.from_record(record, CallState(), report=report)

    failed = 0
    for handler in runtime.end_handlers:
        try:
            await handler(call)
        except Exception:
            failed += 1
            logger.exception("CallEnd %s: handler %s failed", guid, handler.name)
    try:
        await store.delete_call(guid)
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call could not be removed from the store: %s", guid, exc)

    if failed:
        return await _answer(send, started, guid, CallEndResponse.failure("A CallEnd handler failed."), "handler_error")
    await _answer(send, started, guid, _SUCCESS, "ok")
