"""Outbound calls placed by the app: keep the call's context, then ask VNS to dial.

The context is stored under the call's customerCallId before VNS is asked to dial, because VNS sends
the outbound-triggered CallStart (carrying that customerCallId) as soon as it accepts the request,
possibly to another worker; that CallStart finds the context and seeds ``call.state`` with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from vns_sdk.app._runtime import Runtime
from vns_sdk.exceptions import StateStoreError, VNSStatusError
from vns_sdk.models import OutboundCallRequest
from vns_sdk.state.base import CallState

if TYPE_CHECKING:
    from vns_sdk.models import OutboundCallResponse

__all__ = ["DIAL_CONTEXT_SECONDS", "adial", "dial", "new_customer_call_id", "outbound_request"]

# How long a dial context waits for its CallStart.
DIAL_CONTEXT_SECONDS = 3600.0

T = TypeVar("T")


def new_customer_call_id() -> str:
    """A fresh customerCallId for a call dialled without one."""
    return f"vns-{uuid.uuid4().hex}"


def outbound_request(
    called_number: str, caller_id: str, caller_id_name: str | None, customer_call_id: str | None
) -> OutboundCallRequest:
    """The dial request for these arguments, with a customerCallId made up when omitted."""
    return OutboundCallRequest(
        called_number=called_number,
        caller_id=caller_id,
        caller_id_name=caller_id_name,
        customer_call_id=customer_call_id or new_customer_call_id(),
    )


def _encoded(context: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The context as stored (None without one)."""
    return CallState(dict(context)).encoded() if context else None


def _run(runtime: Runtime, coro: Coroutine[Any, Any, T]) -> T:
    """Run a store operation in a loop of its own, closing the connections the store opened in that loop."""

    async def run_and_close() -> T:
        try:
            return await coro
        finally:
            # redis-py's connections belong to this short-lived loop: close them before it ends.
            with contextlib.suppress(StateStoreError):
                await runtime.store.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_and_close())
    coro.close()
    raise RuntimeError("app.dial() cannot run inside an event loop: use `await app.adial(...)` there.")


async def _forget(runtime: Runtime, customer_call_id: str) -> None:
    with contextlib.suppress(StateStoreError):
        await runtime.store.pop_dial_context(customer_call_id)


# The two forms below differ only in how they wait (the store is async; `dial` runs it in a loop of its own).
# On VNSStatusError VNS refused, so no CallStart will come for the call and its context is dropped; after a
# timeout one might, so the context stays.


async def adial(
    runtime: Runtime, request: OutboundCallRequest, context: Mapping[str, Any] | None
) -> OutboundCallResponse:
    """See `VNSApp.adial`."""
    from vns_sdk.client import AsyncVNSClient

    call_id = request.customer_call_id or ""
    stored = _encoded(context)
    client = runtime.async_client or AsyncVNSClient(api_url=runtime.settings.api_url, api_token=runtime.api_token)
    try:
        if stored:
            await runtime.store.put_dial_context(call_id, stored, DIAL_CONTEXT_SECONDS)
        return await client.dial(request.called_number, request.caller_id, request.caller_id_name, call_id)
    except VNSStatusError:
        if stored:
            await _forget(runtime, call_id)
        raise
    finally:
        if client is not runtime.async_client:
            await client.aclose()


def dial(runtime: Runtime, request: OutboundCallRequest, context: Mapping[str, Any] | None) -> OutboundCallResponse:
    """See `VNSApp.dial`."""
    from vns_sdk.client import VNSClient

    call_id = request.customer_call_id or ""
    stored = _encoded(context)
    client = runtime.client or VNSClient(api_url=runtime.settings.api_url, api_token=runtime.api_token)
    try:
        if stored:
            _run(runtime, runtime.store.put_dial_context(call_id, stored, DIAL_CONTEXT_SECONDS))
        return client.dial(request.called_number, request.caller_id, request.caller_id_name, call_id)
    except VNSStatusError:
        if stored:
            _run(runtime, _forget(runtime, call_id))
        raise
    finally:
        if client is not runtime.client:
            client.close()
