"""The Realtime side of one call: the client events the bridge sends, and the server events it reads.

Every server event is parsed into the ``openai`` package's own model of its type, found by its ``type``
and validated (or, for a shape newer than the installed types, built leniently as the client's own
``recv`` does); going straight to the event's model, rather than through the union of every event type,
keeps a function call's round trip short. Every client event is one of that package's event models,
sent through the same connection.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from vns_sdk.realtime._errors import BridgeError, from_closed, from_error
from vns_sdk.realtime._events import AgentSpeech, BridgeEvent, Usage

if TYPE_CHECKING:
    from vns_sdk.realtime._target import OpenConnection

__all__ = ["Conversation", "ResponseOutcome", "SeenCall"]


@dataclass
class SeenCall:
    """A function call the model made, as the server reported it."""

    call_id: str
    name: str
    arguments: str
    received_at: float  # perf_counter() when its function_call_arguments.done arrived


@dataclass
class ResponseOutcome:
    """How one response of the model ended, and what it held."""

    response_id: str | None
    status: str
    reason: str | None = None
    error: tuple[str | None, str | None, str | None] | None = None  # type, code, message of a failed one
    text: str = ""
    calls: list[SeenCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


class Conversation:
    """Sends the caller's turns and the function outputs; reads the model's responses.

    Args:
        opened: The open connection.
        model: The model the endpoint names (for messages).
    """

    def __init__(self, opened: OpenConnection, *, model: str | None) -> None:
        self._opened = opened
        self._connection = opened.connection
        self._model = model

    async def open_session(self, update: Mapping[str, Any], *, timeout: float) -> None:
        """Wait for ``session.created``, send the CallStart answer's ``session.update``, wait for ``session.updated``.

        Raises:
            BridgeError: The endpoint reported an error (an unknown model, a refused session, ...), closed
                the connection, or did not answer in time.
        """
        from openai.types.realtime import SessionCreatedEvent, SessionUpdatedEvent

        await self._wait_for(SessionCreatedEvent, timeout=timeout, where="on connecting")
        # Sent as the answer has it (the openai client checks its shape and keeps every field), as VNS does.
        await self._connection.send(cast(Any, dict(update)))
        await self._wait_for(SessionUpdatedEvent, timeout=timeout, where="on session.update")

    async def say(self, text: str) -> None:
        """Add the caller's words to the conversation, as a user message."""
        from openai.types.realtime import ConversationItemCreateEvent, RealtimeConversationItemUserMessage
        from openai.types.realtime.realtime_conversation_item_user_message import Content

        item = RealtimeConversationItemUserMessage(
            type="message", role="user", content=[Content(type="input_text", text=text)]
        )
        await self._connection.send(ConversationItemCreateEvent(type="conversation.item.create", item=item))

    async def request_response(self) -> None:
        """Ask the model for a response (``response.create``)."""
        from openai.types.realtime import ResponseCreateEvent

        await self._connection.send(ResponseCreateEvent(type="response.create"))

    async def send_output(self, call_id: str, output: str) -> None:
        """Return a function's output to the model (a ``function_call_output`` item)."""
        from openai.types.realtime import ConversationItemCreateEvent, RealtimeConversationItemFunctionCallOutput

        item = RealtimeConversationItemFunctionCallOutput(type="function_call_output", call_id=call_id, output=output)
        await self._connection.send(ConversationItemCreateEvent(type="conversation.item.create", item=item))

    async def read_response(self, emit: Callable[[BridgeEvent], None]) -> ResponseOutcome:
        """Read server events until a response is done; stream its words to `emit` as they come.

        Raises:
            BridgeError: An ``error`` event came, or the connection closed.
        """
        from openai.types.realtime import (
            RealtimeErrorEvent,
            ResponseAudioTranscriptDeltaEvent,
            ResponseCreatedEvent,
            ResponseDoneEvent,
            ResponseFunctionCallArgumentsDoneEvent,
            ResponseTextDeltaEvent,
        )

        response_id: str | None = None
        words: list[str] = []
        seen: dict[str, SeenCall] = {}
        while True:
            event = await self._next()
            if isinstance(event, (ResponseTextDeltaEvent, ResponseAudioTranscriptDeltaEvent)):
                words.append(event.delta)
                emit(AgentSpeech(event.delta, event.response_id))
            elif isinstance(event, ResponseFunctionCallArgumentsDoneEvent):
                seen[event.call_id] = SeenCall(event.call_id, event.name, event.arguments, time.perf_counter())
            elif isinstance(event, ResponseCreatedEvent):
                response_id = event.response.id
            elif isinstance(event, ResponseDoneEvent):
                return _outcome(event, response_id, "".join(words), seen)
            elif isinstance(event, RealtimeErrorEvent):
                error = event.error
                raise from_error(error.type, error.code, error.message, model=self._model, where="error event")

    async def close(self) -> None:
        """Close the connection."""
        await self._opened.close()

    async def _next(self) -> Any:
        """The next server event, parsed into its own model; None for a type the installed package does not know."""
        from pydantic import ValidationError
        from websockets.exceptions import ConnectionClosed

        try:
            raw = await self._connection.recv_bytes()
        except ConnectionClosed as exc:
            raise from_closed(exc) from None
        data = json.loads(raw)
        kind = _event_models().get(str(data.get("type"))) if isinstance(data, dict) else None
        if kind is None:
            return None
        try:
            return kind.model_validate(data)
        except ValidationError:
            return kind.construct(**data)

    async def _wait_for(self, kind: type[Any], *, timeout: float, where: str) -> None:
        from openai.types.realtime import RealtimeErrorEvent

        async def wait() -> None:
            while True:
                event = await self._next()
                if isinstance(event, kind):
                    return
                if isinstance(event, RealtimeErrorEvent):
                    error = event.error
                    fault = from_error(error.type, error.code, error.message, model=self._model, where=where)
                    if fault.reason == "openai_error" and "session" in where:
                        fault = BridgeError(
                            f"The Realtime endpoint refused the session of the CallStart answer: {error.message}",
                            reason="session",
                            code=error.code,
                        )
                    raise fault

        try:
            await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise BridgeError(
                f"The Realtime endpoint did not answer {where} within {timeout:g} s", reason="timeout"
            ) from None


@functools.cache
def _event_models() -> dict[str, Any]:
    """The ``openai`` package's model of each Realtime server event, by type."""
    from typing import get_args

    from openai.types.realtime import RealtimeServerEvent

    union = get_args(RealtimeServerEvent)[0]  # Annotated[Union[...], discriminator]
    return {get_args(model.model_fields["type"].annotation)[0]: model for model in get_args(union)}


def _outcome(event: Any, response_id: str | None, streamed: str, seen: dict[str, SeenCall]) -> ResponseOutcome:
    """The outcome of a ``response.done`` (its output items are the source of truth for function calls)."""
    response = event.response
    details = response.status_details
    outcome = ResponseOutcome(
        response_id=response.id or response_id,
        status=str(response.status or "completed"),
        reason=details.reason if details is not None else None,
    )
    if details is not None and details.error is not None:
        outcome.error = (details.error.type, details.error.code, details.error.message)
    texts: list[str] = []
    now = time.perf_counter()
    for item in response.output or []:
        if item.type == "function_call":
            call_id = str(item.call_id or item.id or "")
            arrived = seen.get(call_id)
            outcome.calls.append(SeenCall(call_id, item.name, item.arguments, arrived.received_at if arrived else now))
        elif item.type == "message" and getattr(item, "role", None) == "assistant":
            texts.extend(part.text or part.transcript or "" for part in item.content)
    outcome.text = streamed or "".join(texts)
    usage = response.usage
    if usage is not None:
        outcome.usage = Usage(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            total_tokens=usage.total_tokens or 0,
            responses=1,
        )
    return outcome
