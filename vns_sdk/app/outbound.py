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

from vns_sdk.exceptions import StateStoreError, VNSStatusError
from vns_sdk.state.base import CallState

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp
    from vns_sdk.models import OutboundCallResponse

__all__ = ["DIAL_CONTEXT_SECONDS", "adial", "dial", "new_customer_call_id"]

# How long a dial context waits for its CallStart.
DIAL_CONTEXT_SECONDS = 3600.0

T = TypeVar("T")


def new_customer_call_id() -> str:
    """A fresh customerCallId for a call dialled without one."""
    return f"vns-{uuid.uuid4().hex}"


def _encode(context: Mapping[str, Any]) -> dict[str, str]:
    return CallState(dict(context)).encoded()


def _run(app: VNSApp, coro: Coroutine[Any, Any, T]) -> T:
    """Run a store operation in a loop of its own, closing the connections the store opened in that loop."""

    async def run_and_close() -> T:
        try:
            return await coro
        finally:
            # redis-py's connections belong to this short-lived loop: close them before it ends.
            with contextlib.suppress(StateStoreError):
                await app.store.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_and_close())
    coro.close()
    raise RuntimeError("app.dial() cannot run inside an event loop: use `await app.adial(...)` there.")


async def _forget(app: VNSApp, customer_call_id: str) -> None:
    with contextlib.suppress(StateStoreError):
        await app.store.pop_dial_context(customer_call_id)


async def adial(
    app: VNSApp,
    called_number: str,
    caller_id: str,
    caller_id_name: str | None = None,
    customer_call_id: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> OutboundCallResponse:
    """See `VNSApp.adial`."""
    from vns_sdk.client import AsyncVNSClient

    customer_call_id = customer_call_id or new_customer_call_id()
    client = app._async_client
    owned = client is None
    if client is None:
        client = AsyncVNSClient(api_url=app.settings.api_url, api_token=app._api_token)
    try:
        if context:
            await app.store.put_dial_context(customer_call_id, _encode(context), DIAL_CONTEXT_SECONDS)
        return await client.dial(called_number, caller_id, caller_id_name, customer_call_id)
    except VNSStatusError:
        # VNS refused: no CallStart will come for this call. (After a timeout it might, so the context stays.)
        if context:
            await _forget(app, customer_call_id)
        raise
    finally:
        if owned:
            await client.aclose()


def dial(
    app: VNSApp,
    called_number: str,
    caller_id: str,
    caller_id_name: str | None = None,
    customer_call_id: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> OutboundCallResponse:
    """See `VNSApp.dial`."""
    from vns_sdk.client import VNSClient

    customer_call_id = customer_call_id or new_customer_call_id()
    client = app._client
    owned = client is None
    if client is None:
        client = VNSClient(api_url=app.settings.api_url, api_token=app._api_token)
    try:
        if context:
            _run(app, app.store.put_dial_context(customer_call_id, _encode(context), DIAL_CONTEXT_SECONDS))
        return client.dial(called_number, caller_id, caller_id_name, customer_call_id)
    except VNSStatusError:
        if context:
            _run(app, _forget(app, customer_call_id))
        raise
    finally:
        if owned:
            client.close()
