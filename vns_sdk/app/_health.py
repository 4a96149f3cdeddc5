"""The health route, for load balancers: is the app up, and can it reach its call-state store?

It needs no credentials and answers no secrets: the store's type and reachability, what the store's
failures have cost since the app started (`StateFaults`: saves lost, CallStarts not stored, CallEnds run
without the state), how many tools are registered, and whether the webhooks are authenticated.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from vns_sdk._json import dumps
from vns_sdk._observe._store import unwrap
from vns_sdk.app._asgi import Receive, Scope, Send, send_json
from vns_sdk.app._runtime import Runtime
from vns_sdk.state.base import CallStateStore

__all__ = ["ENDPOINT", "PING_TIMEOUT", "health", "store_reachable"]

ENDPOINT = "health"
PING_TIMEOUT = 2.0
"""Seconds the store has to answer a ping."""


async def store_reachable(store: CallStateStore) -> bool:
    """Whether ``store`` answers a ping within `PING_TIMEOUT` (never raises)."""
    try:
        return bool(await asyncio.wait_for(store.ping(), timeout=PING_TIMEOUT))
    except Exception:
        return False


async def health(runtime: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``GET``/``HEAD <prefix>/health``: 200 when the store is reachable, else 503."""
    reachable = await store_reachable(runtime.store)
    status = 200 if reachable else 503
    if scope["method"] == "HEAD":
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = {
        "status": "ok" if reachable else "degraded",
        "store": {"type": type(unwrap(runtime.store)).__name__, "reachable": reachable},
        "state": asdict(runtime.state_faults),
        "tools": len(runtime.tools),
        "secure": not runtime.insecure,
    }
    await send_json(send, status, dumps(body))
