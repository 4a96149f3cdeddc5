"""An in-process call-state store: the default, for one worker process."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping

from vns_sdk.exceptions import CallStateBusy, StateStoreError
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

    The marker that recognizes a repeated CallEnd is kept for its ttl, but for the ``max_ended_calls`` most
    recent calls at most, so that the memory of a long-running worker stays flat: the oldest marker goes
    first. The trade-off: a CallEnd repeated after that many later calls have ended runs the CallEnd
    handlers again.

    Args:
        clock: Source of the current time in seconds (injectable for tests), for entries and leases.
        max_ended_calls: How many ended calls are remembered, to recognize their repeated CallEnd.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_ended_calls: int = 10_000) -> None:
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        # sessionGuid -> (when its marker expires, who claimed its end), oldest first; an OrderedDict reaches
        # its front in O(1), where a dict emptied from the front scans the holes left there.
        self._ended: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._max_ended = max(1, max_ended_calls)
        self._dial: dict[str, dict[str, str]] = {}
        self._tokens = itertools.count(1)  # names each lease: unique within the store is all it needs
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, str, str]] = []

    def _touch(self, kind: str, key: str, ttl: float) -> None:
        when = self._clock() + ttl
        self._expiry[(kind, key)] = when
        heap = self._heap
        if len(heap) > 2 * len(self._expiry) + 1024:
            # Entries of calls deleted or refreshed since are left in the heap until their time: drop them now
            # and then (amortized O(1)), or a busy worker would keep one per call for the whole ttl.
            expiry = self._expiry
            heap = self._heap = [entry for entry in heap if expiry.get((entry[1], entry[2])) == entry[0]]
            heapq.heapify(heap)
        heapq.heappush(heap, (when, kind, key))

    def _forget_ended(self, now: float) -> None:
        ended = self._ended
        while len(ended) > self._max_ended:
            ended.popitem(last=False)
        while ended:
            oldest = next(iter(ended))
            if ended[oldest][0] > now:
                break
            del ended[oldest]

    def _has_ended(self, session_guid: str) -> bool:
        marker = self._ended.get(session_guid)
        return marker is not None and marker[0] > self._clock()

    def _sweep(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            when, kind, key = heapq.heappop(self._heap)
            if self._expiry.get((kind, key)) != when:
                continue  # refreshed since this heap entry was pushed
            del self._expiry[(kind, key)]
            if kind == "call":
                self._calls.pop(key, None)
            else:
                self._dial.pop(key, None)

    def __len__(self) -> int:
        """How many live entries (calls, CallEnd markers and dial contexts) the store holds."""
        self._sweep()
        self._forget_ended(self._clock())
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
        if self._has_ended(session_guid):
            return ENDED
        entry = self._calls.get(session_guid)
        if entry is None:
            return CallSnapshot(None, {})
        return CallSnapshot(entry.record, dict(entry.state))

    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        entry = await self._free(session_guid, lease_seconds, wait_seconds)
        if entry is None:
            return ENDED
        state = dict(entry.state)
        lease = Lease(session_guid, f"{next(self._tokens):x}", self._clock() + lease_seconds, state)
        entry.holder = lease
        return CallSnapshot(entry.record, state, lease=lease)

    async def end_call(
        self, session_guid: str, *, claimant: str, wait_seconds: float, lease_seconds: float, ttl: float
    ) -> CallSnapshot:
        entry = await self._free(session_guid, lease_seconds, wait_seconds)
        # From here to the return nothing awaits: no other handler of the process runs in between.
        if entry is None:
            if self._claim(session_guid, ttl, claimant):
                raise StateStoreError(f"call {session_guid!r} was ended by this CallEnd already: its state is gone")
            return ENDED
        self._claim(session_guid, ttl, claimant)
        self._delete(session_guid)
        return CallSnapshot(entry.record, entry.state)  # the entry is gone: its state is nobody else's now

    async def _free(self, session_guid: str, lease_seconds: float, wait_seconds: float) -> _Call | None:
        """The call's entry once no handler holds its lease, waiting at most ``wait_seconds``; ``None`` if it ended."""
        give_up = time.monotonic() + wait_seconds
        while True:
            self._sweep()
            if self._has_ended(session_guid):
                return None
            entry = self._calls.get(session_guid)
            if entry is None:
                # Live but unknown here (its record was never stored): its state starts empty.
                entry = self._calls[session_guid] = _Call(None, {})
                self._touch("call", session_guid, lease_seconds)
            holder = entry.holder
            now = self._clock()
            if holder is None or holder.expires <= now:
                return entry
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
        return self._claim(session_guid, ttl, claimant)

    def _claim(self, session_guid: str, ttl: float, claimant: str | None) -> bool:
        self._sweep()
        now = self._clock()
        ended = self._ended
        marker = ended.get(session_guid)
        if marker is not None:
            if marker[0] > now:
                return claimant is not None and marker[1] == claimant
            del ended[session_guid]  # expired: claimed anew, at the back
        ended[session_guid] = (now + ttl, claimant)
        # Markers are added with the same ttl, so the expired ones are at the front (a longer ttl in front only
        # keeps the ones behind it a little longer, within the cap).
        self._forget_ended(now)
        entry = self._calls.get(session_guid)
        if entry is not None:
            # A holder's save is refused from now on; the handlers waiting for the lease learn the call has ended.
            self._release(entry)
        return True

    async def delete_call(self, session_guid: str) -> None:
        self._delete(session_guid)

    def _delete(self, session_guid: str) -> None:
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
