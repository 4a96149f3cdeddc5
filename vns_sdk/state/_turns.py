"""Turns at a call's state among the handlers of one process, in front of a lease shared by many.

A lease kept in Redis is taken by asking: a handler that finds it held asks again after a pause. When
twenty tool calls of one call arrive at one worker together, nineteen of them asking over and over cost
that worker's CPU and Redis's, and on a busy machine they slow the one holder they wait for. So the
handlers of one process first queue here, on an asyncio event, and only the first in line asks Redis:
a worker has at most one request per call asking for the lease, and a turn handed over inside the process
costs no round trip of waiting.

A turn expires as the lease does, so a handler that never gives its turn back (it was cancelled, its
task died) holds up the others no longer than its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref

from vns_sdk.exceptions import CallStateBusy

__all__ = ["LocalTurns"]


class _Call:
    __slots__ = ("expires", "holder", "released")

    def __init__(self, holder: str, expires: float) -> None:
        self.holder: str | None = holder
        self.expires = expires
        # Set when the holder gives its turn back, for the handlers waiting; made when the first one waits.
        self.released: asyncio.Event | None = None


class LocalTurns:
    """One turn at a time per call among this process's handlers (per event loop: asyncio events are bound to one)."""

    __slots__ = ("_loops",)

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Call]] = (
            weakref.WeakKeyDictionary()
        )

    def _calls(self) -> dict[str, _Call]:
        loop = asyncio.get_running_loop()
        calls = self._loops.get(loop)
        if calls is None:
            calls = self._loops[loop] = {}
        return calls

    async def take(self, session_guid: str, holder: str, *, hold: float, give_up: float) -> None:
        """Wait for the call's turn until ``give_up`` (`time.monotonic`), then hold it for ``hold`` seconds.

        Raises:
            CallStateBusy: Another handler of this process held the turn until ``give_up``.
        """
        calls = self._calls()
        while True:
            now = time.monotonic()
            call = calls.get(session_guid)
            if call is None:
                calls[session_guid] = _Call(holder, now + hold)
                return
            if call.holder is None or call.expires <= now:
                call.holder, call.expires = holder, now + hold
                return
            wait = min(call.expires, give_up) - now
            if wait <= 0:
                raise CallStateBusy(f"the state of call {session_guid!r} stayed held by another handler")
            if call.released is None:
                call.released = asyncio.Event()
            released = call.released
            # Woken by the holder giving its turn back, or by the end of its turn or of this handler's patience.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(released.wait(), wait)

    def hold_until(self, session_guid: str, holder: str, expires: float) -> None:
        """Make the turn of ``holder`` last until ``expires`` (when it got the shared lease, which ends then)."""
        call = self._calls().get(session_guid)
        if call is not None and call.holder == holder:
            call.expires = expires

    def give_back(self, session_guid: str, holder: str | None = None) -> None:
        """End the turn of ``holder`` (of whoever holds it, with ``None``: the call was forgotten)."""
        calls = self._calls()
        call = calls.get(session_guid)
        if call is None or (holder is not None and call.holder != holder):
            return  # its turn ran out and another has it now
        del calls[session_guid]  # the waiters woken race for a new entry; nothing stays once the call is quiet
        if call.released is not None:
            call.released.set()
