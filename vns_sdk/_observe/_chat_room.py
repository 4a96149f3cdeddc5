"""The inspector's chats: started on the page's word, found by id, bounded, hung up when the app stops.

A chat needs the ``realtime`` extra and a key for the app's Realtime endpoint (its own, or
``OPENAI_API_KEY``, as the bridge finds it); without them the page is told so, and no call is placed.
Bounded: at most `MAX_CHATS` open at once (each one is a live Realtime session, billed), each hung up
after `IDLE_SECONDS` without a line (`FIRST_LINE_SECONDS` before its first), a line at most `MAX_TEXT`
characters. Once the app is stopping (`ChatRoom.close`), no chat starts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from vns_sdk._observe._chat import Chat, ChatError
from vns_sdk._observe._chat_place import InProcessCalls

if TYPE_CHECKING:
    from vns_sdk.endpoint import RealtimeEndpoint
    from vns_sdk.testing._call import AsyncSimulatedCall

__all__ = [
    "CONNECT_SECONDS",
    "FIRST_LINE_SECONDS",
    "IDLE_SECONDS",
    "MAX_CHATS",
    "MAX_TEXT",
    "RESPONSE_SECONDS",
    "ChatRoom",
]

logger = logging.getLogger("vns_sdk.observe")

MAX_CHATS = 3
"""Chats open at once in one process (each one is a live Realtime session, billed)."""
IDLE_SECONDS = 300.0
"""A chat with no line from the page for this long is hung up (a page closed without hanging up)."""
FIRST_LINE_SECONDS = 60.0
"""A chat whose first line has not come this long after it started is hung up (a page that lost its answer)."""
MAX_TEXT = 2000
"""The longest line the caller may type, in characters."""
RESPONSE_SECONDS = 60.0
"""How long the model may take over each of its responses."""
CONNECT_SECONDS = 15.0
"""How long the Realtime connection and its session may take to open."""
ENDED_KEPT = 16
"""Ended chats kept to tell the page how they ended."""

_NO_EXTRA = (
    "The chat talks to the Realtime model through the realtime extra, which is not installed: "
    "pip install 'vns-sdk[realtime]', then restart the app."
)


class ChatRoom:
    """The chats of one app: started, found, bounded, and hung up when the app stops.

    Args:
        calls: Places the chats' calls on the app.
        endpoint: The app's Realtime endpoint (what the chat needs to reach the model).
        scrub: Masks the app's secrets in a text.
        body_timeout: Seconds a request's body may take to arrive (the app's ``VNS_BODY_TIMEOUT``).
    """

    def __init__(
        self,
        calls: InProcessCalls,
        *,
        endpoint: RealtimeEndpoint,
        scrub: Callable[[str], str],
        body_timeout: float,
    ) -> None:
        self.calls = calls
        self.endpoint = endpoint
        self.scrub = scrub
        self.body_timeout = body_timeout
        self.max_chats = MAX_CHATS
        self.idle_seconds = IDLE_SECONDS
        self.first_line_seconds = FIRST_LINE_SECONDS
        self.closed = False
        self.max_text = MAX_TEXT
        self.response_seconds = RESPONSE_SECONDS
        self._chats: dict[str, Chat] = {}
        self._ended: deque[Chat] = deque(maxlen=ENDED_KEPT)

    def status(self) -> dict[str, Any]:
        """Whether a chat can start, and if not why; the limits."""
        found: dict[str, Any] = {
            "ready": True,
            "open": len(self._chats),
            "limits": {
                "chats": self.max_chats,
                "idle_seconds": self.idle_seconds,
                "first_line_seconds": self.first_line_seconds,
                "text": self.max_text,
            },
        }
        try:
            self._open()
            found["where"] = self._model_endpoint()
        except ChatError as problem:
            found.update(ready=False, error=problem.error, message=problem.message)
        return found

    def _open(self) -> None:
        """Raises ChatError (503) once the app is stopping."""
        if self.closed:
            raise ChatError(503, "stopping", "The app is stopping: no chat can start.")

    def _model_endpoint(self) -> str:
        """Where a chat would reach the model (the URL without its query), if it can.

        Raises:
            ChatError: It cannot: no ``realtime`` extra, or no key.
        """
        if any(importlib.util.find_spec(name) is None for name in ("openai", "websockets")):
            raise ChatError(503, "no_realtime", _NO_EXTRA)
        from vns_sdk.realtime._errors import BridgeError
        from vns_sdk.realtime._target import resolve_target

        try:
            # What the bridge does with the app's default endpoint: its key, else OPENAI_API_KEY.
            return resolve_target(self.endpoint.url, self.endpoint.headers).where
        except BridgeError as fault:
            raise ChatError(503, fault.reason, self.scrub(fault.message)) from None

    async def start(self, caller: Mapping[str, str | None], *, base_url: str, state: Mapping[str, Any]) -> Chat:
        """Place a call (CallStart) and connect it to the model.

        Args:
            caller: ``caller_id``, ``caller_id_name``, ``called_number`` (each optional).
            base_url: The scheme and host the webhooks name.
            state: The lifespan state the server gives each request.

        Raises:
            ChatError: The chat cannot start (no key, too many chats, a number VNS would not send) or failed
                to (the app refused the call, the model refused the key, ...).
        """
        from vns_sdk.exceptions import ConfigurationError
        from vns_sdk.realtime._call import CallOptions, CallScope
        from vns_sdk.testing._fakes import call_start_body

        self._open()
        self._model_endpoint()
        if len(self._chats) >= self.max_chats:
            raise ChatError(
                429,
                "too_many_chats",
                f"{len(self._chats)} chats are open, the most at once: hang one up first "
                f"(a chat nobody talks to hangs up after {min(self.first_line_seconds, self.idle_seconds):g} s, "
                f"{self.idle_seconds:g} s once it has had a line).",
            )
        try:
            body = call_start_body(**caller)
        except ConfigurationError as exc:
            raise ChatError(422, "invalid_caller", str(exc)) from None
        options = CallOptions(
            realtime_url=None,
            api_key=None,
            output_modalities=["text"],
            recorder=None,
            connect_timeout=CONNECT_SECONDS,
            response_timeout=self.response_seconds,
            end_tools=("end_conversation",),
        )
        calls = self.calls

        def place(**_: Any) -> AbstractAsyncContextManager[AsyncSimulatedCall]:
            return calls.call(body, base_url=base_url, state=state)

        chat = Chat(
            str(body["sessionGuid"]),
            idle_seconds=self.idle_seconds,
            first_line_seconds=self.first_line_seconds,
            explain=self.explain,
            on_end=self.forget,
        )
        self._chats[chat.id] = chat
        chat.begin(CallScope(place, {}, options, None))
        await chat.ready()
        return chat

    def find(self, chat_id: str) -> Chat:
        """The chat of this id: open, or among the last ended (which say how they ended).

        Raises:
            ChatError: There is none.
        """
        chat = self._chats.get(chat_id) or next((chat for chat in self._ended if chat.id == chat_id), None)
        if chat is None:
            raise ChatError(404, "unknown_chat", "There is no chat of this id (it ended long ago): start another one.")
        return chat

    def forget(self, chat: Chat) -> None:
        """A chat has ended: it no longer counts, and is kept a while to say how it ended."""
        if self._chats.pop(chat.id, None) is not None:
            self._ended.append(chat)

    async def close(self) -> None:
        """Hang up every chat, and start no other (the app is stopping)."""
        self.closed = True
        chats = list(self._chats.values())
        if chats:
            await asyncio.gather(*(chat.hang_up() for chat in chats), return_exceptions=True)

    def explain(self, exc: BaseException) -> ChatError:
        """A failure as the page shows it, secrets masked."""
        from vns_sdk.exceptions import SimulationError
        from vns_sdk.realtime._errors import BridgeError

        if isinstance(exc, ChatError):
            return exc
        if isinstance(exc, BridgeError):
            return ChatError(503 if exc.reason == "no_key" else 502, exc.reason, self.scrub(exc.message))
        if isinstance(exc, SimulationError):
            # The app's own answer was not one VNS could use: its words, without the answer's body.
            lines = [line.strip() for line in str(exc).splitlines() if not line.strip().startswith("answer:")]
            return ChatError(502, "app_answer", self.scrub(" ".join(line for line in lines if line)))
        logger.error("An inspector chat failed", exc_info=exc)
        return ChatError(502, "chat_failed", f"The chat failed ({type(exc).__name__}); the app's log says why.")
