"""`ObservedStore`: a call-state store that reports each of its operations, around the app's own store.

It decorates any `CallStateStore` (memory, Redis, the customer's): every operation is observed (a
``call_state {operation}`` span, a store row on the inspector), what it wrote is kept for the inspector's
state changes, and everything else is the wrapped store's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar

from vns_sdk._observe._events import EventSource, StoreObservation
from vns_sdk.state.base import CallRecord, CallStateStore

__all__ = ["ObservedStore", "unwrap"]

T = TypeVar("T")


class ObservedStore(CallStateStore):
    """Reports every operation of ``inner`` to ``source``.

    Args:
        inner: The store that does the work.
        source: Where the operations are reported.
    """

    def __init__(self, inner: CallStateStore, source: EventSource) -> None:
        self.inner = inner
        self._source = source
        self._name = type(inner).__name__

    def __repr__(self) -> str:
        return f"ObservedStore({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        # What the wrapped store offers beyond the interface (its client, its settings) stays reachable.
        return getattr(self.inner, name)

    async def _observe(
        self, observation: StoreObservation, work: Awaitable[T], found: Callable[[T], bool] | None = None
    ) -> T:
        source = self._source
        source.begin(observation)
        try:
            result = await work
            if found is not None:
                observation.found = found(result)
        except BaseException as exc:
            observation.error = exc
            raise
        finally:
            source.end(observation)
        return result

    def _observation(self, operation: str, session_guid: str | None) -> StoreObservation:
        return StoreObservation(self._source, operation, self._name, session_guid)

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        observation = self._observation("start_call", record.session_guid)
        observation.state = state
        await self._observe(observation, self.inner.start_call(record, state, ttl))

    async def load_call(self, session_guid: str) -> tuple[CallRecord, dict[str, str]] | None:
        observation = self._observation("load_call", session_guid)
        return await self._observe(observation, self.inner.load_call(session_guid), _is_not_none)

    async def save_state(
        self, session_guid: str, updates: Mapping[str, str], deleted: Collection[str], ttl: float
    ) -> None:
        observation = self._observation("save_state", session_guid)
        observation.state = updates
        observation.deleted = list(deleted)
        await self._observe(observation, self.inner.save_state(session_guid, updates, deleted, ttl))

    async def claim_call_end(self, session_guid: str, ttl: float) -> bool:
        observation = self._observation("claim_call_end", session_guid)
        # A repeat finds the claim of an earlier delivery.
        return await self._observe(observation, self.inner.claim_call_end(session_guid, ttl), _is_false)

    async def delete_call(self, session_guid: str) -> None:
        await self._observe(self._observation("delete_call", session_guid), self.inner.delete_call(session_guid))

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        observation = self._observation("put_dial_context", None)
        observation.key, observation.state = customer_call_id, state
        await self._observe(observation, self.inner.put_dial_context(customer_call_id, state, ttl))

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        observation = self._observation("pop_dial_context", None)
        observation.key = customer_call_id
        return await self._observe(observation, self.inner.pop_dial_context(customer_call_id), _is_not_none)

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _is_not_none(value: object) -> bool:
    return value is not None


def _is_false(value: object) -> bool:
    return value is False


def unwrap(store: CallStateStore) -> CallStateStore:
    """The store an `ObservedStore` wraps, or ``store`` itself."""
    return store.inner if isinstance(store, ObservedStore) else store
