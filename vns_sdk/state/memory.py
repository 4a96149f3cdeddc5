"""An in-process call-state store: the default, for one worker process."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import secrets
import time
from collections.abc import Callable, Collection, Mapping

from vns_sdk.exceptions import CallStateBusy
from vns_sdk.state.base import ENDED, CallRecord, CallSnapshot, CallStateStore, Lease

__all__ = ["MemoryCallStateStore"]


class _Call:
    """One call's entry: its record (if stored), its state, and its lease."""

    __slots__ = ("done", "holder", "record", "released", "state")

    def __init__(self, record: CallRecord | None, state: dict[str, str]) -> None:
        self.record = record
        self.state = state
        self.holder: Lease | None = None
        self.done: set[str] = set()  # the tokens of the saves applied
        # Set when the holder releases, for the handlers waiting their turn; made when the first one waits.
        self.released: asyncio.Event | None = None


class MemoryCallStateStore(CallStateStore):
    """Keeps calls in a dict of this process. Entries expire with their ttl and are swept as time passes.

    Use it for a single worker; with several workers or hosts use `RedisCallStateStore`, since the
    CallStart, tool calls and CallEnd of one call may each land on a different process.

    A call's lease is a field of its entry and a waiting handler sleeps on an event the holder sets when
    it saves, so taking a free lease costs no I/O and no lock object; leases expire as Redis ones do.

    Args:
        clock: Source of the current time in seconds (injectable for tests), for entries and leases.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        self._ended: dict[str, str | None] = {}  # sessionGuid -> who claimed its end
        self._dial: dict[str, dict[str, str]] = {}
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, str, str]] = []

    def _touch(self, kind: str, key: str, ttl: float) -> None:
        when = self._clock() + ttl
        self._expiry[(kind, key)] = when
        heapq.heappush(self._heap, (when, kind, key))

    def _sweep(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            when, kind, key = heapq.heappop(self._heap)
            if self._expiry.get((kind, key)) != when:
                continue  # refreshed since this heap entry was pushed
            del self._expiry[(kind, key)]
            if kind == "call":
                self._calls.pop(key, None)
            elif kind == "ended":
                self._ended.pop(key, None)
            else:
                self._dial.pop(key, None)

    def __len__(self) -> int:
        """How many live entries (calls, CallEnd markers and dial contexts) the store holds."""
        self._sweep()
        return len(self._calls) + len(self._ended) + len(self._dial)

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        self._sweep()
        entry = self._calls.get(record.session_guid)
        if entry is None:
            self._calls[record.session_guid] = _Call(record, dict(state))
        else:  # a CallStart again: the new record and state, the lease kept
            entry.record, entry.state = record, dict(state)
        self._touch("call", record.session_guid, ttl)

    async def read_call(self, session_guid: str) -> CallSnapshot:
        heap = self._heap
        if heap and heap[0][0] <= self._clock():  # the sweep's own test, without its call: every tool call reads
            self._sweep()
        if session_guid in self._ended:
            return ENDED
        entry = self._calls.get(session_guid)
        if entry is None:
            return CallSnapshot(None, {})
        return CallSnapshot(entry.record, dict(entry.state))

    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        give_up = time.monotonic() + wait_seconds
        while True:
            self._sweep()
            if session_guid in self._ended:
                return ENDED
            entry = self._calls.get(session_guid)
            if entry is None:
                # Live but unknown here (its record was never stored): its state starts empty.
                entry = self._calls[session_guid] = _Call(None, {})
                self._touch("call", session_guid, lease_seconds)
            holder = entry.holder
            now = self._clock()
            if holder is None or holder.expires <= now:
                state = dict(entry.state)
                lease = Lease(session_guid, secrets.token_hex(8), now + lease_seconds, state)
                entry.holder = lease
                return CallSnapshot(entry.record, state, lease=lease)
            wait = min(holder.expires - now, give_up - time.monotonic())
            if wait <= 0:
                raise CallStateBusy(f"the state of call {session_guid!r} stayed held by another handler")
            if entry.released is None:
                entry.released = asyncio.Event()
            released = entry.released
            # Woken by the holder's release, or by the end of its lease or of this handler's patience: the
            # loop tells which.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(released.wait(), wait)

    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        self._sweep()
        entry = self._calls.get(lease.session_guid)
        if entry is None:
            return False  # the call ended (its entry went)
        holder = entry.holder
        if holder is None or holder.token != lease.token or holder.expires <= self._clock():
            return lease.token in entry.done  # saved already; else the lease ran out
        state = entry.state
        state.update(updates)
        for key in deleted:
            state.pop(key, None)
        self._touch("call", lease.session_guid, ttl)  # as the Redis store does: a call with activity stays alive
        entry.done.add(lease.token)
        self._release(entry)
        return True

    @staticmethod
    def _release(entry: _Call) -> None:
        entry.holder = None
        released = entry.released
        if released is not None:
            entry.released = None  # the waiters woken now race for the lease; later ones wait on a new event
            released.set()

    async def claim_call_end(self, session_guid: str, ttl: float, *, claimant: str | None = None) -> bool:
        self._sweep()
        if session_guid in self._ended:
            return claimant is not None and self._ended[session_guid] == claimant
        self._ended[session_guid] = claimant
        self._touch("ended", session_guid, ttl)
        entry = self._calls.get(session_guid)
        if entry is not None and entry.released is not None:
            entry.released.set()  # the handlers waiting for the lease learn that the call has ended
        return True

    async def delete_call(self, session_guid: str) -> None:
        entry = self._calls.pop(session_guid, None)
        self._expiry.pop(("call", session_guid), None)
        if entry is not None:
            self._release(entry)

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        self._sweep()
        self._dial[customer_call_id] = dict(state)
        self._touch("dial", customer_call_id, ttl)

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        self._sweep()
        self._expiry.pop(("dial", customer_call_id), None)
        return self._dial.pop(customer_call_id, None)
