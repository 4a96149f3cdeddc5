"""The CallEnd webhook: run the ``@app.on_call_end`` handlers once per call, then forget the call.

VNS may deliver a CallEnd more than once. The first delivery claims the call in the store (so the claim
holds across workers sharing Redis); a repeat is answered with success without running the handlers.
A handler that fails is logged and answered with ``status: 1``; the claim is kept, so a retry of that
CallEnd does not run the handlers a second time (they may have acted before failing).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from vns_sdk.app.access_log import log_webhook, logger
from vns_sdk.app.asgi import Receive, Scope, Send, send_json
from vns_sdk.app.intake import caller_fields, read_webhook
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.models import CallEndRequest, CallEndResponse
from vns_sdk.state.base import CallState

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp

__all__ = ["CALL_END_DEDUPE_SECONDS", "handle_call_end"]

ENDPOINT = "call-end"
# How long a CallEnd is remembered, to recognize VNS's repeats of it.
CALL_END_DEDUPE_SECONDS = 24 * 3600


def _encode(response: CallEndResponse) -> bytes:
    return response.model_dump_json(by_alias=True).encode()


def _context_from_report(report: CallEndRequest) -> CallContext:
    # The call is unknown here (it expired, or started on a worker that shares no store): the report says the rest.
    return CallContext(**caller_fields(report))


async def handle_call_end(app: VNSApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one CallEnd webhook."""
    started = time.perf_counter()
    report = await read_webhook(app, scope, receive, send, CallEndRequest, ENDPOINT, started)
    if report is None:
        return
    guid = report.session_guid
    store = app.store
    try:
        first = await store.claim_call_end(guid, CALL_END_DEDUPE_SECONDS)
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call-state store failed: %s", guid, exc)
        await send_json(send, 200, _encode(CallEndResponse.failure("The call state store is unavailable.")))
        return log_webhook(ENDPOINT, started, 200, "store_unavailable", session_guid=guid)
    if not first:
        await send_json(send, 200, _encode(CallEndResponse.success()))
        return log_webhook(ENDPOINT, started, 200, "duplicate", session_guid=guid)

    call: CallContext | None = None
    try:
        loaded = await store.load_call(guid)
    except StateStoreError as exc:
        logger.error("CallEnd %s: the call state could not be read: %s", guid, exc)
        loaded = None
    if loaded is not None:
        record, encoded = loaded
        call = CallContext.from_record(record, CallState(encoded=encoded))
    else:
        call = _context_from_report(report)
    call.report = report

    failed = 0
    for handler in app._end_handlers:
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
        await send_json(send, 200, _encode(CallEndResponse.failure("A CallEnd handler failed.")))
        return log_webhook(ENDPOINT, started, 200, "handler_error", session_guid=guid)
    await send_json(send, 200, _encode(CallEndResponse.success()))
    log_webhook(ENDPOINT, started, 200, "ok", session_guid=guid)
