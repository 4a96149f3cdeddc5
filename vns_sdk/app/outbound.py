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


def _prepare(customer_call_id: str | None, context: Mapping[str, Any] | None) -> tuple[str, dict[str, str] | None]:
    """The call's customerCallId (made up when omitted) and its context as stored (None without one)."""
    return customer_call_id or new_customer_call_id(), (_encode(context) if context else None)


def _client_options(app: VNSApp) -> dict[str, Any]:
    """How to build the client a dial owns when the app was given none."""
    return {"api_url": app.settings.api_url, "api_token": app._api_token}


# The two forms below differ only in how they wait (the store is async; `dial` runs it in a loop of its own).
# On VNSStatusError VNS refused, so no CallStart will come for the call and its context is dropped; after a
# timeout one might, so the context stays.


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

    customer_call_id, stored = _prepare(customer_call_id, context)
    client = app._async_client or AsyncVNSClient(**_client_options(app))
    try:
        if stored:
            await app.store.put_dial_context(customer_call_id, stored, DIAL_CONTEXT_SECONDS)
        return await client.dial(called_number, caller_id, caller_id_name, customer_call_id)
    except VNSStatusError:
        if stored:
            await _forget(app, customer_call_id)
        raise
    finally:
        if client is not app._async_client:
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

    customer_call_id, stored = _prepare(customer_call_id, context)
    client = app._client or VNSClient(**_client_options(app))
    try:
        if stored:
            _run(app, app.store.put_dial_context(customer_call_id, stored, DIAL_CONTEXT_SECONDS))
        return client.dial(called_number, caller_id, caller_id_name, customer_call_id)
    except VNSStatusError:
        if stored:
            _run(app, _forget(app, customer_call_id))
        raise
    finally:
        if client is not app._client:
            client.close()
