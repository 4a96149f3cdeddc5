"""Turns at a call's state among the handlers of one process, in front of a lease shared by many.

A lease kept in Redis is taken by asking: a handler that finds it held asks again after a pause. When
twenty tool calls of one call arrive at one worker together, nineteen of them asking over and over cost
that worker's CPU and Redis's, and on a busy machine they slow the one holder they wait for. So the
handlers of one process first queue here, on an asyncio event, and only the first in line asks Redis:
a worker has at most one request per call asking for the lease, and a turn handed over inside the process
costs no round trip of waiting.

A turn expires as the lease does, so a handler that never gives its turn back (its task died) holds up the
others no longer than its lease. Redis stays the authority: a handler waiting here still asks it now and
then (a call that ended on another worker is answered at once, a lease that expired is taken over).
`LocalTurns.wait` is that whole wait: the queue here, then the shared lease asked for after short pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import weakref
from collections.abc import Awaitable, Callable

from vns_sdk.exceptions import CallStateBusy
from vns_sdk.state.base import CallSnapshot

__all__ = ["LocalTurns"]


_SWEEP_AT = 256  # entries of a loop before the expired ones are looked for
_MAX_PAUSE = 0.01  # the longest pause between two tries for a busy shared lease
_PEEK = 0.25  # how often a handler waiting for its turn in the process asks the shared lease all the same


class _Call:
    __slots__ = ("expires", "holder", "released")

    def __init__(self, holder: str, expires: float) -> None:
        self.holder = holder
        self.expires = expires
        # Set when the holder gives its turn back, for the handlers waiting; made when the first one waits.
        self.released: asyncio.Event | None = None


class LocalTurns:
    """One turn at a time per call among this process's handlers (per event loop: asyncio events are bound to one)."""

    __slots__ = ("_loops", "_sweep_at")

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Call]] = (
            weakref.WeakKeyDictionary()
        )
        self._sweep_at = _SWEEP_AT

    def _calls(self) -> dict[str, _Call]:
        loop = asyncio.get_running_loop()
        calls = self._loops.get(loop)
        if calls is None:
            calls = self._loops[loop] = {}
        return calls

    async def take(self, session_guid: str, holder: str, *, hold: float, until: float) -> bool:
        """Wait for the call's turn until ``until`` (`time.monotonic`): ``True`` once ``holder`` has it (for ``hold``
        seconds), ``False`` when another handler still had it then.
        """
        calls = self._calls()
        while True:
            now = time.monotonic()
            call = calls.get(session_guid)
            if call is None:
                if len(calls) >= self._sweep_at:
                    self._sweep(calls, now)
                calls[session_guid] = _Call(holder, now + hold)
                return True
            if call.expires <= now:  # its holder never gave it back (its task died): the turn ended with its lease
                call.holder, call.expires = holder, now + hold
                return True
            wait = min(call.expires, until) - now
            if wait <= 0:
                return False
            if call.released is None:
                call.released = asyncio.Event()
            released = call.released
            # Woken by the holder giving its turn back, or by the end of its turn or of this wait.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(released.wait(), wait)

    def _sweep(self, calls: dict[str, _Call], now: float) -> None:
        """Forget the turns that ended unreturned with nobody waiting (amortized: when the entries have doubled)."""
        for guid in [guid for guid, call in calls.items() if call.expires <= now and call.released is None]:
            del calls[guid]
        self._sweep_at = max(_SWEEP_AT, 2 * len(calls))

    def hold_until(self, session_guid: str, holder: str, expires: float) -> None:
        """Make ``holder``'s turn last until ``expires``, taking it over if another handler had it.

        Called when ``holder`` got the shared lease, which ends then: whoever held the turn here had lost the
        lease (it expired), and gives nothing back when it finds out.
        """
        calls = self._calls()
        call = calls.get(session_guid)
        if call is None:
            calls[session_guid] = _Call(holder, expires)
        else:
            call.holder, call.expires = holder, expires

    def give_back(self, session_guid: str, holder: str | None = None) -> None:
        """End the turn of ``holder`` (of whoever holds it, with ``None``: the call was forgotten)."""
        calls = self._calls()
        call = calls.get(session_guid)
        if call is None or (holder is not None and call.holder != holder):
            return  # its turn ran out and another has it now
        del calls[session_guid]  # the waiters woken race for a new entry; nothing stays once the call is quiet
        if call.released is not None:
            call.released.set()

    async def wait(
        self,
        session_guid: str,
        holder: str,
        wait_seconds: float,
        hold: float,
        attempt: Callable[[], Awaitable[CallSnapshot | float]],
    ) -> CallSnapshot:
        """Run ``attempt`` (one try at the shared lease: the call, or the seconds left of another's lease) until it
        finds the lease free, within ``wait_seconds``, queueing first in this process as ``holder`` for ``hold``.

        Raises:
            CallStateBusy: The lease was still held after ``wait_seconds``.
        """
        give_up = time.monotonic() + wait_seconds
        try:
            # One handler of this process at a time asks the shared lease; a waiting one still asks now and then,
            # for a call that ended on another worker.
            while not await self.take(session_guid, holder, hold=hold, until=min(give_up, _peek())):
                found = await attempt()
                if isinstance(found, CallSnapshot):
                    return self._taken(session_guid, holder, found)
                if time.monotonic() >= give_up:
                    raise CallStateBusy(f"the state of call {session_guid!r} stayed held by another handler")
            pause = 0.001
            while True:
                found = await attempt()
                if isinstance(found, CallSnapshot):
                    return self._taken(session_guid, holder, found)
                left = give_up - time.monotonic()
                if left <= 0:
                    raise CallStateBusy(f"the state of call {session_guid!r} stayed held by another handler")
                await asyncio.sleep(min(pause * (0.5 + random.random()), found, left))
                pause = min(pause * 2, _MAX_PAUSE)
        except BaseException:
            self.give_back(session_guid, holder)
            raise

    def _taken(self, session_guid: str, holder: str, snapshot: CallSnapshot) -> CallSnapshot:
        if snapshot.lease is None:  # the call has ended (or is ending): no turn to keep
            self.give_back(session_guid, holder)
        else:
            self.hold_until(session_guid, holder, snapshot.lease.expires)
        return snapshot


def _peek() -> float:
    return time.monotonic() + _PEEK * (0.5 + random.random())
