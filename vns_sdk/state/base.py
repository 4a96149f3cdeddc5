"""The call-state store interface and what it holds for a call (`CallState`, the mapping itself, is re-exported).

A call's CallStart, tool calls and CallEnd may each land on a different worker, so the state of a
call lives in a store, not in a process. Values are kept JSON-encoded, one entry per key.

The handlers of one call that use the state run one after another: a handler takes the call's
*lease* and reads the state in one step (`CallStateStore.acquire_call`), runs, and saves what it
changed while releasing the lease in another (`CallStateStore.save_call`). A lease expires, so a
worker that dies holding one delays the call by at most the lease; and each lease has a unique token
that the save is checked against, in the same atomic step that writes, so a holder whose lease ran out
(and may have been taken by another handler) cannot write over what that handler saw. Handlers that
never use the state read the call without a lease (`CallStateStore.read_call`) and run alongside.
CallEnd waits for the lease, records the end and takes the final state (`CallStateStore.end_call`).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

from vns_sdk._json import dumps_text, loads
from vns_sdk.exceptions import StateStoreError
from vns_sdk.state._call_state import CallState, decode_state, encode_value

__all__ = [
    "CallParties",
    "CallRecord",
    "CallSnapshot",
    "CallState",
    "CallStateStore",
    "Lease",
    "decode_state",
    "encode_value",
]


@dataclass(eq=False)
class CallParties:
    """Who called whom, as CallStart and CallEnd report it: the fields a call keeps from start to end.

    `CallRecord` (what the store keeps) and `CallContext` (what a handler sees) both start with these.

    Attributes:
        session_guid: VNS's identifier of the call.
        customer_call_id: The customer's identifier of the call, if any.
        caller_id: The calling number.
        caller_id_name: The caller's display name, if any.
        called_number: The number that was called (your DID, or the dialled number of an outbound call).
        outbound: Whether the call was placed through the outbound API.
    """

    session_guid: str
    customer_call_id: str | None = None
    caller_id: str | None = None
    caller_id_name: str | None = None
    called_number: str | None = None
    outbound: bool = False


@dataclass(eq=True)
class CallRecord(CallParties):
    """What the app remembers about a live call between its webhooks: its `CallParties`, and these.

    Attributes:
        max_seconds: The call's time limit, as answered at CallStart.
        started_at: Unix time at which the app answered CallStart.
    """

    max_seconds: int = 300
    started_at: float = 0.0

    def to_json(self) -> str:
        """Encode the record as JSON."""
        return dumps_text(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CallRecord:
        """Decode a record written by `to_json`."""
        return cls(**loads(raw))


@dataclass(frozen=True, slots=True)
class Lease:
    """The turn of one handler with one call's state, from `CallStateStore.acquire_call` to `CallStateStore.save_call`.

    Attributes:
        session_guid: The call.
        token: A value unique to the holder; a save is applied only while the lease is still this one's.
        expires: `time.monotonic` value after which the store may give the call's state to another handler.
        state: The call's state as read with the lease (each value JSON-encoded), which the holder's changes
            apply to; not to be changed.
    """

    session_guid: str
    token: str
    expires: float
    state: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass(slots=True)  # not frozen: every tool call builds one, and a frozen dataclass costs three times as much
class CallSnapshot:
    """What a store holds for a call, as read at one moment (read-only, by convention).

    Attributes:
        record: The call's record, or ``None`` when none is stored: its CallStart was answered while the
            store was down, or the store lost it. The call is live all the same until it ends.
        state: The call's state, each value JSON-encoded.
        ended: The call's CallEnd is on record: the call is over (``record`` and ``state`` are empty).
        lease: The lease taken with this read (`CallStateStore.acquire_call`), if any.
    """

    record: CallRecord | None
    state: dict[str, str]
    ended: bool = False
    lease: Lease | None = None


ENDED = CallSnapshot(None, {}, ended=True)
"""The snapshot of a call whose CallEnd is on record."""

_logger = logging.getLogger("vns_sdk.state")


class CallStateStore(abc.ABC):
    """Where call records and call state live between webhooks.

    Implementations: `MemoryCallStateStore` (one process, the default) and `RedisCallStateStore`
    (shared by every worker). Every method may raise `StateStoreError` when the backend fails.
    Every entry expires after its ``ttl`` (seconds), so nothing grows without bound.

    A call is *live* from the moment a tool token is issued for it until its CallEnd is recorded
    (`claim_call_end` or `end_call`), whether or not its record could be stored: reads answer an empty record and
    state for a call the store does not know, and `CallSnapshot.ended` only after a CallEnd.
    """

    @abc.abstractmethod
    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        """Store a new call's record and its initial (encoded) state."""

    @abc.abstractmethod
    async def read_call(self, session_guid: str) -> CallSnapshot:
        """The call's record and encoded state, without a lease (for handlers that do not change the state)."""

    @abc.abstractmethod
    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        """Take the call's lease and read its record and state, in one step.

        Waits while another handler holds the lease, at most ``wait_seconds``. A call that has ended is
        answered at once, without a lease (`CallSnapshot.ended`).

        Args:
            session_guid: The call.
            lease_seconds: How long the lease holds if it is not released (the holder's time limit plus a
                grace): a holder that dies delays the call's next handler by at most this.
            wait_seconds: How long to wait for another handler's lease to be released or to expire.

        Raises:
            CallStateBusy: Another handler still held the lease after ``wait_seconds``.
            StateStoreError: The backend failed.
        """

    @abc.abstractmethod
    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        """Apply a state diff and release the lease, in one atomic step, while the lease is still held.

        Returns ``False``, changing nothing, when ``lease`` is no longer the call's: it ran out (and another
        handler may have taken the call's state since), or the call has ended. The diff was computed from a
        state that may no longer be the call's. Saving again under a lease whose save was applied answers
        ``True`` and changes nothing more (a retry after a lost reply is safe). An empty diff only releases
        the lease.
        """

    @abc.abstractmethod
    async def claim_call_end(self, session_guid: str, ttl: float, *, claimant: str | None = None) -> bool:
        """Return ``True`` the first time it is called for a call and ``False`` after (CallEnd retries).

        From then on, the call has ended: `read_call` and `acquire_call` answer `CallSnapshot.ended`, and a lease
        still held is dropped (its holder's save is refused). `end_call` does this as its second step.

        Args:
            session_guid: The call.
            ttl: How long the claim is remembered.
            claimant: Who claims (a name unique to the CallEnd). The same claimant asking again, after its
                answer was lost, is answered ``True`` again: a retried claim never skips the CallEnd it won.
        """

    async def end_call(
        self, session_guid: str, *, claimant: str, wait_seconds: float, lease_seconds: float, ttl: float
    ) -> CallSnapshot:
        """End the call: wait for its lease, record its end, and take its final record and state.

        Then the call has ended (as after `claim_call_end`) and is forgotten. The memory and Redis stores do it
        in one step; this default in three (`acquire_call`, `claim_call_end`, `delete_call`).

        Args:
            session_guid: The call.
            claimant: Names this CallEnd: asking again after a lost answer, it gets the call again, not
                `CallSnapshot.ended` (or `StateStoreError` once the store no longer holds its state).
            wait_seconds: How long to wait for a handler's lease to be released or to expire.
            lease_seconds: How long a lease taken while ending holds, and the final state is kept for
                ``claimant`` to ask again.
            ttl: How long the end is remembered, to recognize a repeat of the CallEnd.

        Returns:
            The call's final record and state (no lease), or `ENDED` when another CallEnd ended it first.

        Raises:
            CallStateBusy: A handler still held the lease after ``wait_seconds``.
            StateStoreError: The backend failed; the call may have ended (ask again as ``claimant``).
        """
        snapshot = await self.acquire_call(session_guid, lease_seconds=lease_seconds, wait_seconds=wait_seconds)
        if snapshot.ended:
            if await self.claim_call_end(session_guid, ttl, claimant=claimant):
                # Ended by this CallEnd on a try whose answer was lost: that try took the state (and may have
                # deleted it), so there is none to give.
                raise StateStoreError(f"call {session_guid!r} was ended by a try whose answer was lost")
            return ENDED
        lease = snapshot.lease
        assert lease is not None  # acquire_call leases a call that has not ended
        pause = 0.05
        while True:  # the claim, tried again while the lease holds (a claim applied already is recognized)
            try:
                first = await self.claim_call_end(session_guid, ttl, claimant=claimant)
                break
            except StateStoreError:
                if time.monotonic() + pause >= lease.expires:
                    raise  # the lease expires on its own
                await asyncio.sleep(pause)
                pause = min(2 * pause, 0.5)
        if not first:  # another CallEnd claimed it while this one waited
            await self.save_call(lease, {}, (), lease_seconds)
            return ENDED
        try:
            await self.delete_call(session_guid)
        except StateStoreError as exc:  # the end is on record: what is left expires on its own
            _logger.warning("ended call %r could not be removed from the store (it expires): %s", session_guid, exc)
        return CallSnapshot(snapshot.record, snapshot.state)

    @abc.abstractmethod
    async def delete_call(self, session_guid: str) -> None:
        """Forget a call's record, state and lease (its CallEnd marker stays until it expires)."""

    @abc.abstractmethod
    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        """Keep the (encoded) context of an outbound call until its CallStart arrives."""

    @abc.abstractmethod
    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        """Take the context stored for an outbound call, or ``None``."""

    async def load_call(self, session_guid: str) -> tuple[CallRecord, dict[str, str]] | None:
        """The call's record and encoded state, or ``None`` if no record is stored or the call has ended."""
        snapshot = await self.read_call(session_guid)
        if snapshot.record is None:
            return None
        return snapshot.record, snapshot.state

    async def ping(self) -> bool:
        """Whether the store is reachable."""
        return True

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
