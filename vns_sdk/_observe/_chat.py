"""One chat of the inspector's: a call to the agent through the real Realtime model, played line by line.

A chat is a call bridged to the model as ``vns-sdk chat`` bridges it (`vns_sdk.realtime`): CallStart, the
Realtime session of the answer (where its ``aiUrl`` says, with its key), each function the model calls
sent to the app's tools route, CallEnd. Its webhooks reach the app in process (`_chat_place`), so they
show in the inspector's timeline like any call's, under the chat's sessionGuid.

It runs in a task of its own, which holds the call from CallStart to CallEnd (a call's Realtime connection
and its webhook client are opened and closed in one task); the page's requests hand it what the caller
says and wait for the turn to end. It hangs up when asked, after ``idle_seconds`` without a line (sooner,
``first_line_seconds``, while no line has come: a page that lost the chat's id cannot hold a slot long),
or at the call's ``maxSeconds``. A hang-up cuts the wait on the model short, never the app's own work: a tool
request in flight and CallEnd are sent to their end (`vns_sdk.realtime`). Every failure is a `ChatError`: an
HTTP status, a code, and one line fit to show.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vns_sdk.realtime._call import BridgedCall
    from vns_sdk.realtime._events import Turn

__all__ = ["HANG_UP_PATIENCE", "Chat", "ChatError", "turn_json"]

HANG_UP_PATIENCE = 10.0
"""Seconds a hang-up waits for the chat's task to end before cancelling it (which spares the app's requests)."""


class ChatError(Exception):
    """Why a chat could not do what the page asked, as the page shows it.

    Attributes:
        status: The HTTP status to answer.
        error: A short code (``no_key``, ``key_refused``, ``rate_limit``, ``dropped``, ``busy``, ...).
        message: One line, secrets masked.
    """

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


@dataclass
class _Say:
    """A line of the caller's, and where its turn goes once played."""

    text: str
    done: asyncio.Future[Turn]


def _retrieve(future: asyncio.Future[Any]) -> None:
    # A turn whose page left before it ended: its outcome is read here, so asyncio does not log it as lost.
    if not future.cancelled():
        future.exception()


class Chat:
    """One chat: a call in a task of its own, and what the page asks of it."""

    def __init__(
        self,
        session_guid: str,
        *,
        idle_seconds: float,
        first_line_seconds: float,
        explain: Callable[[BaseException], ChatError],
        on_end: Callable[[Chat], None],
    ) -> None:
        self.id = secrets.token_urlsafe(12)
        self.session_guid = session_guid
        self.call: BridgedCall | None = None
        self.ended = False
        self.end_reason: str | None = None
        self.idle = False
        self.failure: ChatError | None = None
        self.idle_seconds = idle_seconds
        self.first_line_seconds = min(first_line_seconds, idle_seconds)
        self._heard = False  # whether a line has come
        self._explain = explain
        self._on_end = on_end
        loop = asyncio.get_running_loop()
        self._inbox: asyncio.Queue[_Say | None] = asyncio.Queue()  # None: hang up
        self._ready: asyncio.Future[None] = loop.create_future()
        self._ready.add_done_callback(_retrieve)
        self._turn: asyncio.Task[Turn] | None = None
        self._busy = False
        self._active = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def begin(self, scope: AbstractAsyncContextManager[BridgedCall]) -> None:
        """Place the call (``scope`` opens it) in the chat's own task."""
        self._task = asyncio.create_task(self._run(scope), name=f"vns-sdk inspector chat {self.session_guid}")

    async def ready(self) -> None:
        """Wait until the call is connected to the model.

        Raises:
            ChatError: It could not be (no key, a refused key, the app refused the call, ...).
        """
        await asyncio.shield(self._ready)

    async def say(self, text: str) -> Turn:
        """Say ``text`` as the caller; return the turn once the agent has answered (its tools included).

        Raises:
            ChatError: The chat has ended, a turn is still running, or the model failed (the call then ended).
        """
        if self.ended:
            raise self.gone()
        if self._busy:
            raise ChatError(409, "busy", "The agent is still answering the last line: wait for its answer.")
        self._busy = True
        try:
            done: asyncio.Future[Turn] = asyncio.get_running_loop().create_future()
            done.add_done_callback(_retrieve)
            self._inbox.put_nowait(_Say(text, done))
            # Shielded: a page that leaves mid-turn does not cut the call's conversation in the middle.
            return await asyncio.shield(done)
        finally:
            self._busy = False

    @property
    def idle_limit(self) -> float:
        """Seconds without a line after which the chat hangs up: shorter until the first line."""
        return self.idle_seconds if self._heard else self.first_line_seconds

    async def hang_up(self, *, patience: float | None = None) -> None:
        """Hang up (a turn running is cut short, a tool request to the app once answered) and wait for CallEnd.

        Args:
            patience: Seconds to wait for the chat's task before cancelling it (default `HANG_UP_PATIENCE`);
                CallEnd, once begun, is sent to its end all the same.
        """
        patience = HANG_UP_PATIENCE if patience is None else patience
        if not self.ended:
            if self._turn is not None:
                self._turn.cancel()
            self._inbox.put_nowait(None)
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=patience)
            if not task.done():
                task.cancel()
                await asyncio.wait({task})

    def gone(self) -> ChatError:
        """The error for a request to a chat that has ended."""
        if self.failure is not None:
            return self.failure
        why = {
            "agent": "the agent hung up",
            "max_seconds": "the call reached its maxSeconds",
            "error": "of an error",
        }.get(self.end_reason or "", "you hung up")
        if self.idle:
            why = f"nothing was said for {self.idle_limit:g} s"
        return ChatError(410, "ended", f"This chat has ended because {why}: start another one.")

    def summary(self, *, turns: bool = True) -> dict[str, Any]:
        """The chat as the page shows it: its call, its turns so far (unless ``turns`` is false), how it ended."""
        call = self.call
        found: dict[str, Any] = {
            "chat": self.id,
            "session": self.session_guid,
            "live": not self.ended,
            "end_reason": self.end_reason,
            "error": {"error": self.failure.error, "message": self.failure.message} if self.failure else None,
        }
        if self.ended and self.failure is None:
            found["message"] = self.gone().message
        if call is not None:
            target = call.target
            found.update(
                model=(target.model if target is not None else None) or call.response.session.model,
                where=target.where if target is not None else None,
                max_seconds=call.max_seconds,
                tools=list(call.tools),
                usage=asdict(call.usage),
            )
            if turns:
                found["turns"] = [turn_json(turn) for turn in call.turns]
        return found

    # -- the chat's task ------------------------------------------------------------------------------------

    async def _run(self, scope: AbstractAsyncContextManager[BridgedCall]) -> None:
        try:
            async with scope as call:
                self.call = call
                self._ready.set_result(None)
                await self._serve(call)
        except Exception as exc:
            failure = self._explain(exc)
            if self._ready.done():
                self.failure = self.failure or failure
            else:
                self._ready.set_exception(failure)
        finally:
            self.ended = True
            if self.call is not None:
                self.end_reason = self.end_reason or self.call.end_reason or "caller"
            if not self._ready.done():  # cancelled before it connected: the app is stopping
                self._ready.set_exception(ChatError(503, "stopping", "The app is stopping: the chat was hung up."))
            while not self._inbox.empty():
                waiting = self._inbox.get_nowait()
                if waiting is not None and not waiting.done.done():
                    waiting.done.set_exception(self.gone())
            self._on_end(self)

    async def _serve(self, call: BridgedCall) -> None:
        """Play the page's lines until the call ends: hung up, by the agent, idle, or at ``maxSeconds``."""
        while not call.ended:
            wait = min(self._active + self.idle_limit - time.monotonic(), call.time_left)
            try:
                command = await asyncio.wait_for(self._inbox.get(), max(wait, 0.001))
            except asyncio.TimeoutError:
                if call.time_left <= 0:
                    await call.hang_up(reason="max_seconds")
                else:
                    self.idle = True
                    await call.hang_up()
                return
            if command is None:
                await call.hang_up()
                return
            self._heard = True
            await self._play(call, command)

    async def _play(self, call: BridgedCall, command: _Say) -> None:
        turn = self._turn = asyncio.create_task(call.say(command.text))
        try:
            await asyncio.wait({turn})
        finally:
            if not turn.done():  # this task is cancelled (the app stops): the turn goes too, its tool request answered
                turn.cancel()
                await asyncio.wait({turn})
            self._turn = None
            self._active = time.monotonic()
        if turn.cancelled():
            command.done.set_exception(ChatError(409, "hung_up", "You hung up while the agent was answering."))
            return
        error = turn.exception()
        if error is None:
            command.done.set_result(turn.result())
            return
        failure = self._explain(error)
        self.failure = failure
        command.done.set_exception(failure)
        if not call.ended:  # not the model's failure (the bridge ends the call for those): end it all the same
            await call.hang_up(reason="error")


def turn_json(turn: Turn) -> dict[str, Any]:
    """A turn as the page shows it: what the caller said, the agent's words, the functions it called."""
    return {
        "caller": turn.caller,
        "text": turn.text,
        "tools": [
            {
                "name": call.name,
                "arguments": call.arguments if call.arguments is not None else call.raw_arguments,
                "ran": call.ran,
                "status": call.status,
                "skipped": call.skipped,
                "problem": call.problem,
                "ms": round(call.tool_ms, 1),
            }
            for call in turn.tool_calls
        ],
        "statuses": turn.statuses,
        "usage": asdict(turn.usage),
        "ended": turn.ended,
        "end_reason": turn.end_reason,
    }
