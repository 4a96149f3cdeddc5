"""`ObservedStore`: a call-state store that reports each of its operations, around the app's own store.

It decorates any `CallStateStore` (memory, Redis, the customer's): every operation made while a webhook
is observed is observed too (a ``call_state {operation}`` span, a row on the inspector), what it wrote is
kept for the inspector's state changes, and everything else is the wrapped store's business. Outside an
observed webhook (an outbound call storing its context, a webhook nobody listens to) it only passes
the call on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar

from vns_sdk._observe._events import EventSource, StoreObservation, current
from vns_sdk.state.base import CallRecord, CallSnapshot, CallStateStore, Lease

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
        self,
        operation: str,
        session_guid: str | None,
        work: Awaitable[T],
        found: Callable[[T], bool] | None = None,
        *,
        key: str | None = None,
        state: Mapping[str, str] | None = None,
        deleted: Collection[str] = (),
    ) -> T:
        if current() is None:
            return await work  # outside an observed webhook (or nobody listens)
        source = self._source
        observation = StoreObservation(source, operation, self._name, session_guid)
        observation.key, observation.state, observation.deleted = key, state, list(deleted)
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

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        guid = record.session_guid
        await self._observe("start_call", guid, self.inner.start_call(record, state, ttl), state=state)

    async def read_call(self, session_guid: str) -> CallSnapshot:
        return await self._observe("read_call", session_guid, self.inner.read_call(session_guid), _found)

    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        work = self.inner.acquire_call(session_guid, lease_seconds=lease_seconds, wait_seconds=wait_seconds)
        return await self._observe("acquire_call", session_guid, work, _found)

    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        work = self.inner.save_call(lease, updates, deleted, ttl)
        return await self._observe("save_call", lease.session_guid, work, state=updates, deleted=deleted)

    async def claim_call_end(self, session_guid: str, ttl: float, *, claimant: str | None = None) -> bool:
        # A repeat finds the claim of an earlier delivery.
        work = self.inner.claim_call_end(session_guid, ttl, claimant=claimant)
        return await self._observe("claim_call_end", session_guid, work, _is_false)

    async def end_call(
        self, session_guid: str, *, claimant: str, wait_seconds: float, lease_seconds: float, ttl: float
    ) -> CallSnapshot:
        work = self.inner.end_call(
            session_guid, claimant=claimant, wait_seconds=wait_seconds, lease_seconds=lease_seconds, ttl=ttl
        )
        return await self._observe("end_call", session_guid, work, _found)

    async def delete_call(self, session_guid: str) -> None:
        await self._observe("delete_call", session_guid, self.inner.delete_call(session_guid))

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        work = self.inner.put_dial_context(customer_call_id, state, ttl)
        await self._observe("put_dial_context", None, work, key=customer_call_id, state=state)

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        work = self.inner.pop_dial_context(customer_call_id)
        return await self._observe("pop_dial_context", None, work, _is_not_none, key=customer_call_id)

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _is_not_none(value: object) -> bool:
    return value is not None


def _found(snapshot: CallSnapshot) -> bool:
    return snapshot.record is not None or bool(snapshot.state)


def _is_false(value: object) -> bool:
    return value is False


def unwrap(store: CallStateStore) -> CallStateStore:
    """The store an `ObservedStore` wraps, or ``store`` itself."""
    return store.inner if isinstance(store, ObservedStore) else store
