"""Tool timeouts with one timer per event loop, instead of one per call.

`asyncio.timeout` schedules and cancels a loop timer for every call, which costs more than validating
the arguments and running a typical tool together. Tool calls have long timeouts and almost always
finish well before them, so here every running call registers its deadline in a set and a single
timer, armed for the earliest deadline, cancels the calls that are past theirs. Registering and
unregistering a call is a dictionary insert and delete.

Most tools never wait at all (a lookup in memory, a computation): their coroutine finishes in its
first step, and no deadline can interrupt a coroutine that does not wait. So `run_until` takes that
first step itself and watches the deadline only if the coroutine suspends; a call that finishes at
once costs no registration at all.

The semantics are those of `asyncio.timeout`: the task is cancelled at the deadline, and the
cancellation is turned into `DeadlineExceeded` only if it came from the deadline (a cancellation from
elsewhere, such as the client going away, still propagates).
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
import types
import weakref
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, TypeVar, cast

__all__ = ["DeadlineExceeded", "resume_until", "run_until"]

T = TypeVar("T")

# A timer may fire a hair before its time (clock resolution); count such calls as expired.
_TOLERANCE = 0.001


class DeadlineExceeded(Exception):
    """The awaited call ran past its deadline and was cancelled."""


class _Running:
    __slots__ = ("expired", "task", "when")

    def __init__(self, task: asyncio.Task[Any], when: float) -> None:
        self.task = task
        self.when = when
        self.expired = False


class _Deadlines:
    """The running calls of one event loop and the one timer that watches them."""

    __slots__ = ("__weakref__", "_calls", "_loop", "_timer", "_timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._calls: dict[_Running, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def add(self, running: _Running) -> None:
        self._calls[running] = None
        if running.when < self._timer_at:
            self._arm(running.when)

    def discard(self, running: _Running) -> None:
        self._calls.pop(running, None)
        # The timer stays armed: when it fires with nothing due, it re-arms for the earliest call or stops.

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._fire)
        self._timer_at = when

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        now = self._loop.time() + _TOLERANCE
        earliest = math.inf
        for running in list(self._calls):
            if running.when <= now:
                del self._calls[running]
                running.expired = True
                running.task.cancel()
            elif running.when < earliest:
                earliest = running.when
        if earliest < math.inf:
            self._arm(earliest)


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = weakref.WeakKeyDictionary()
_last: _Deadlines | None = None  # the usual case is one loop: skip the weak-dictionary lookup


def _deadlines(loop: asyncio.AbstractEventLoop) -> _Deadlines:
    global _last
    deadlines = _last
    if deadlines is None or deadlines._loop is not loop:
        deadlines = _by_loop.get(loop)
        if deadlines is None:
            deadlines = _by_loop[loop] = _Deadlines(loop)
        _last = deadlines
    return deadlines


async def run_until(awaitable: Awaitable[T], deadline: float) -> T:
    """Await ``awaitable`` in the current task, cancelling it at ``deadline`` (a `time.monotonic` value).

    A coroutine that finishes without suspending returns at once: nothing could have interrupted it.

    Raises:
        DeadlineExceeded: The deadline passed first (the awaitable was cancelled).
    """
    if type(awaitable) is not types.CoroutineType:
        return await _watched(awaitable, deadline)
    coro = cast("Coroutine[Any, Any, T]", awaitable)
    try:
        step = coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    return await _watched(_resume(coro, step), deadline)


async def resume_until(coro: Coroutine[Any, Any, T], step: Any, deadline: float) -> T:
    """`run_until` for a coroutine whose first step the caller took itself, and which yielded ``step``.

    For a hot path that takes the first step inline (no call, no frame) and needs the deadline only when the
    coroutine suspends.

    Raises:
        DeadlineExceeded: The deadline passed first (the coroutine was cancelled).
    """
    return await _watched(_resume(coro, step), deadline)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], step: Any) -> Generator[Any, Any, T]:
    """Go on awaiting ``coro``, whose first step already yielded ``step`` (what ``yield from`` would do)."""
    while True:
        try:
            sent = yield step
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # a cancellation (or anything else) thrown into the awaiting task
            try:
                step = coro.throw(exc)
            except StopIteration as done:
                return cast(T, done.value)
        else:
            try:
                step = coro.send(sent)
            except StopIteration as done:
                return cast(T, done.value)


async def _watched(awaitable: Awaitable[T], deadline: float) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    if task is None:  # pragma: no cover - always inside a task under asyncio
        return await asyncio.wait_for(awaitable, max(0.0, deadline - time.monotonic()))
    deadlines = _deadlines(loop)
    # The loop's clock may not be time.monotonic (uvloop): convert through the time left.
    running = _Running(task, loop.time() + (deadline - time.monotonic()))
    cancelling = _cancelling(task)
    deadlines.add(running)
    try:
        result = await awaitable
    except asyncio.CancelledError:
        if running.expired and _uncancel(task) <= cancelling:
            raise DeadlineExceeded from None
        raise
    finally:
        deadlines.discard(running)
    if running.expired:
        # The call caught our cancellation and returned anyway: keep its result, undo the request.
        _uncancel(task)
    return result


# Python 3.11+ counts cancellation requests; ours is undone so the task is not left "cancelling".
if sys.version_info >= (3, 11):

    def _cancelling(task: asyncio.Task[Any]) -> int:
        return task.cancelling()

    def _uncancel(task: asyncio.Task[Any]) -> int:
        return task.uncancel()

else:  # pragma: no cover - Python 3.10

    def _cancelling(task: asyncio.Task[Any]) -> int:
        return 0

    def _uncancel(task: asyncio.Task[Any]) -> int:
        return 0
