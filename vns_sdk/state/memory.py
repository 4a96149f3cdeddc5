"""An in-process call-state store: the default, for one worker process."""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping

from vns_sdk.state.base import CallRecord, CallStateStore

__all__ = ["MemoryCallStateStore"]


class MemoryCallStateStore(CallStateStore):
    """Keeps calls in a dict of this process. Entries expire with their ttl and are swept as time passes.

    Use it for a single worker; with several workers or hosts use `RedisCallStateStore`, since the
    CallStart, tool calls and CallEnd of one call may each land on a different process.

    The marker that recognizes a repeated CallEnd is kept for its ttl, but for the ``max_ended_calls`` most
    recent calls at most, so that the memory of a long-running worker stays flat: the oldest marker goes
    first. The trade-off: a CallEnd repeated after that many later calls have ended runs the CallEnd
    handlers again.

    Args:
        clock: Source of the current time in seconds (injectable for tests).
        max_ended_calls: How many ended calls are remembered, to recognize their repeated CallEnd.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_ended_calls: int = 10_000) -> None:
        self._clock = clock
        self._records: dict[str, tuple[CallRecord, dict[str, str]]] = {}
        # sessionGuid -> when its marker expires, oldest first; an OrderedDict reaches its front in O(1), where a
        # dict emptied from the front scans the holes left there.
        self._ended: OrderedDict[str, float] = OrderedDict()
        self._max_ended = max(1, max_ended_calls)
        self._dial: dict[str, dict[str, str]] = {}
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
            if ended[oldest] > now:
                break
            del ended[oldest]

    def _sweep(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            when, kind, key = heapq.heappop(self._heap)
            if self._expiry.get((kind, key)) != when:
                continue  # refreshed since this heap entry was pushed
            del self._expiry[(kind, key)]
            if kind == "call":
                self._records.pop(key, None)
            else:
                self._dial.pop(key, None)

    def __len__(self) -> int:
        """How many live entries (calls, CallEnd markers and dial contexts) the store holds."""
        self._sweep()
        self._forget_ended(self._clock())
        return len(self._records) + len(self._ended) + len(self._dial)

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        self._sweep()
        self._records[record.session_guid] = (record, dict(state))
        self._touch("call", record.session_guid, ttl)

    async def load_call(self, session_guid: str) -> tuple[CallRecord, dict[str, str]] | None:
        heap = self._heap
        if heap and heap[0][0] <= self._clock():  # the sweep's own test, without its call: every tool call loads
            self._sweep()
        found = self._records.get(session_guid)
        if found is None:
            return None
        return found[0], dict(found[1])

    async def save_state(
        self, session_guid: str, updates: Mapping[str, str], deleted: Collection[str], ttl: float
    ) -> None:
        self._sweep()
        found = self._records.get(session_guid)
        if found is None:
            return
        state = found[1]
        state.update(updates)
        for key in deleted:
            state.pop(key, None)
        self._touch("call", session_guid, ttl)  # as the Redis store does: a call with activity stays alive

    async def claim_call_end(self, session_guid: str, ttl: float) -> bool:
        self._sweep()
        now = self._clock()
        ended = self._ended
        when = ended.get(session_guid)
        if when is not None:
            if when > now:
                return False
            del ended[session_guid]  # expired: claimed anew, at the back
        ended[session_guid] = now + ttl
        # Markers are added with the same ttl, so the expired ones are at the front (a longer ttl in front only
        # keeps the ones behind it a little longer, within the cap).
        self._forget_ended(now)
        return True

    async def delete_call(self, session_guid: str) -> None:
        self._records.pop(session_guid, None)
        self._expiry.pop(("call", session_guid), None)

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        self._sweep()
        self._dial[customer_call_id] = dict(state)
        self._touch("dial", customer_call_id, ttl)

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        self._sweep()
        self._expiry.pop(("dial", customer_call_id), None)
        return self._dial.pop(customer_call_id, None)
