"""The health route, for load balancers: is the app up, and can it reach its call-state store?

It needs no credentials and answers no secrets: the store's type and reachability, how many tools are
registered, and whether the webhooks are authenticated.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from vns_sdk.app.asgi import Send, send_json
from vns_sdk.state.base import CallStateStore

if TYPE_CHECKING:
    from vns_sdk.app.application import VNSApp

__all__ = ["PING_TIMEOUT", "handle_health", "store_reachable"]

PING_TIMEOUT = 2.0
"""Seconds the store has to answer a ping."""


async def store_reachable(store: CallStateStore) -> bool:
    """Whether ``store`` answers a ping within `PING_TIMEOUT` (never raises)."""
    try:
        return bool(await asyncio.wait_for(store.ping(), timeout=PING_TIMEOUT))
    except Exception:
        return False


async def handle_health(app: VNSApp, send: Send, *, head: bool = False) -> None:
    """Answer ``GET``/``HEAD <prefix>/health``: 200 when the store is reachable, else 503."""
    reachable = await store_reachable(app.store)
    status = 200 if reachable else 503
    if head:
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = {
        "status": "ok" if reachable else "degraded",
        "store": {"type": type(app.store).__name__, "reachable": reachable},
        "tools": len(app.router),
        "secure": not app._insecure,
    }
    await send_json(send, status, json.dumps(body, separators=(",", ":")).encode())
