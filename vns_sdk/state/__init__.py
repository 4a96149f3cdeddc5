"""Call-state stores: where a call's state lives between its webhooks, and each handler's turn with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vns_sdk.state.base import CallParties, CallRecord, CallSnapshot, CallState, CallStateStore, Lease
from vns_sdk.state.memory import MemoryCallStateStore

if TYPE_CHECKING:
    from vns_sdk.state.redis import RedisCallStateStore

__all__ = [
    "CallParties",
    "CallRecord",
    "CallSnapshot",
    "CallState",
    "CallStateStore",
    "Lease",
    "MemoryCallStateStore",
    "RedisCallStateStore",
]


def __getattr__(name: str) -> Any:
    # The Redis store imports redis-py, which is an optional extra: load it only when asked for.
    if name == "RedisCallStateStore":
        from vns_sdk.state.redis import RedisCallStateStore

        return RedisCallStateStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
