"""`BridgedCall`: one call between the app and the Realtime model, turn by turn, as VNS runs it.

It opens the Realtime session where the CallStart answer's ``aiUrl`` says, with the answer's headers and
``session.update`` (text replies by default); sends each thing the caller says and asks for a response;
sends every function the model calls to the app exactly as VNS does and returns the reply; and ends
with CallEnd. The webhook side is the simulator's (`vns_sdk.testing`), so the requests are the ones
`VNSSimulator` sends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from vns_sdk.realtime._conversation import Conversation, ResponseOutcome, SeenCall
from vns_sdk.realtime._errors import BridgeError, from_error
from vns_sdk.realtime._events import (
    AgentResponse,
    BridgeEvent,
    CallEnded,
    EndReason,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    Turn,
    Usage,
)
from vns_sdk.realtime._recording import ConversationRecorder
from vns_sdk.realtime._target import RealtimeTarget, connect, resolve_target
from vns_sdk.realtime._tools import parse_arguments, relay

if TYPE_CHECKING:
    # The defining modules, not the `vns_sdk.testing` package: the inspector's chat (below the app) uses this.
    from vns_sdk._exchange import Exchange
    from vns_sdk.models import CallStartResponse, FunctionTool
    from vns_sdk.testing._call import AsyncSimulatedCall

__all__ = ["BridgedCall", "CallOptions", "CallScope", "PlaceCall"]

T = TypeVar("T")

PlaceCall = Callable[..., AbstractAsyncContextManager["AsyncSimulatedCall"]]
"""Places the webhook side of a call, given the caller's details: `VNSSimulator.acall`, or the inspector's chat."""


@dataclass(frozen=True)
class CallOptions:
    """How the bridge runs its calls (`RealtimeBridge`'s arguments)."""

    realtime_url: str | None
    api_key: str | None
    output_modalities: list[str] | None
    recorder: ConversationRecorder | None
    connect_timeout: float
    response_timeout: float
    end_tools: tuple[str, ...]


class BridgedCall:
    """A call in progress between the app and the Realtime model, placed by `RealtimeBridge.call`.

    Attributes:
        vns_call: The webhook side of the call (the simulator's call: its request, answer and exchanges).
        target: Where the Realtime session is, and with which headers (once connected).
        turns: What the caller said and what came of it, in order.
        usage: The tokens used so far.
        ended: Whether the call is over (CallEnd sent).
        end_reason: ``caller``, ``agent``, ``max_seconds`` or ``error``, once it ended.
        error: The failure that ended the call, if one did.
        tool_override: Answers a function call in the app's place when it returns True (a test's mock
            tool: it fills in the call's reply and output); None, or False, sends it to the app.
    """

    def __init__(
        self, options: CallOptions, vns_call: AsyncSimulatedCall, on_event: Callable[[BridgeEvent], None] | None
    ) -> None:
        self.vns_call = vns_call
        self.target: RealtimeTarget | None = None
        self.turns: list[Turn] = []
        self.usage = Usage()
        self.ended = False
        self.end_reason: EndReason | None = None
        self.error: BridgeError | None = None
        self.tool_override: Callable[[ToolCall], Awaitable[bool]] | None = None
        self._options = options
        self._on_event = on_event
        self._started = time.monotonic()
        self._connected_at: float | None = None
        self._conversation: Conversation | None = None
        self._turn: Turn | None = None  # the turn being played, while `say` runs

    def __repr__(self) -> str:
        state = f"ended ({self.end_reason})" if self.ended else "live"
        return f"<BridgedCall {self.session_guid}, {len(self.turns)} turns, {state}>"

    @property
    def session_guid(self) -> str:
        """VNS's identifier of the call."""
        return self.vns_call.session_guid

    @property
    def response(self) -> CallStartResponse:
        """The CallStart answer."""
        return self.vns_call.response

    @property
    def tools(self) -> dict[str, FunctionTool]:
        """The function tools the model is offered, by name."""
        return self.vns_call.tools

    @property
    def max_seconds(self) -> int:
        """The call's time limit (the answer's ``maxSeconds``)."""
        return self.vns_call.max_seconds

    @property
    def time_left(self) -> float:
        """Seconds before the call reaches ``maxSeconds``."""
        return max(0.0, self._started + self.max_seconds - time.monotonic())

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every function call of the call, in order."""
        return [call for turn in self.turns for call in turn.tool_calls]

    @property
    def exchanges(self) -> list[Exchange]:
        """Every webhook request of the call and its answer."""
        return self.vns_call.exchanges

    async def say(self, text: str) -> Turn:
        """Say something as the caller; return once the agent has answered (tools included) and waits.

        The model's function calls are sent to the app as VNS sends them and their replies returned to the
        model, until it answers without calling anything. If it called ``end_conversation``, the call ends
        after its goodbye; if ``maxSeconds`` runs out, the call ends there.

        Raises:
            BridgeError: The Realtime side failed (an error, a dropped connection); the call was ended first.
            RuntimeError: The call has already ended.
        """
        if self.ended:
            raise RuntimeError(f"The call has ended ({self.end_reason}): nothing more can be said.")
        turn = Turn(caller=text)
        self.turns.append(turn)
        if self._options.recorder is not None:
            self._options.recorder.caller(text)
        conversation = self._conversation
        assert conversation is not None  # set by _connect before the call is handed out
        agent_ended = False
        self._turn = turn
        try:
            with anyio.move_on_after(self.time_left) as scope:
                await conversation.say(text)
                await conversation.request_response()
                agent_ended = await self._play(turn, conversation)
            if scope.cancelled_caught:
                await self._finish("max_seconds")
            elif agent_ended:
                await self._finish("agent")
        except BridgeError as fault:
            await self._finish("error", fault)
            raise
        finally:
            self._turn = None
        return turn

    async def hang_up(self, *, reason: EndReason = "caller") -> None:
        """End the call: close the Realtime session and send CallEnd (status 0); nothing if already ended.

        Args:
            reason: Why, as CallEnd's ``logInformation.endedBy`` reports it (``max_seconds`` when the
                caller stayed silent until the limit).
        """
        await self._finish(reason)

    # -- the conversation ----------------------------------------------------------------------------------

    async def _connect(self) -> None:
        answer = self.vns_call.response
        instructions = answer.voice_elements_instructions
        options = self._options
        self.target = resolve_target(
            instructions.ai_url.url, instructions.ai_url.headers, url=options.realtime_url, api_key=options.api_key
        )
        opened = await connect(self.target, timeout=options.connect_timeout)
        self._connected_at = time.monotonic()
        self._conversation = Conversation(opened, model=self.target.model or answer.session.model)
        await self._conversation.open_session(self._session_update(), timeout=options.connect_timeout)

    def _session_update(self) -> dict[str, Any]:
        # What VNS sends to OpenAI: the answer without VoiceElements_Instructions (event_id, type, session).
        update = self.vns_call.response.model_dump(mode="json", by_alias=True, exclude_unset=True)
        update.pop("VoiceElements_Instructions", None)
        modalities = self._options.output_modalities
        if modalities is not None:
            update["session"] = {**update.get("session", {}), "output_modalities": modalities}
        return update

    async def _play(self, turn: Turn, conversation: Conversation) -> bool:
        """Run the model's responses to one caller turn; True if it ended the call (``end_conversation``)."""
        ending = False
        while True:
            outcome = await self._read(conversation)
            self._settle_response(turn, outcome)
            if outcome.status == "failed":
                kind, code, message = outcome.error or (None, None, None)
                raise from_error(kind, code, message, model=_model_of(self), where="failed response")
            if not outcome.calls:
                return ending
            if outcome.status != "completed" or ending:
                why = "the call was ending" if outcome.status == "completed" else f"the response was {outcome.status}"
                for seen in outcome.calls:
                    self._settle_call(turn, self._tool_call(seen, outcome), skipped=why)
                return ending
            for seen in outcome.calls:
                call = self._tool_call(seen, outcome)
                turn.tool_calls.append(call)
                self._emit(ToolCallStarted(call), turn)
                if self.tool_override is None or not await self.tool_override(call):
                    await _to_the_end(relay(self.vns_call, call))
                await conversation.send_output(call.call_id, call.output or "")
                call.bridge_ms = max(0.0, (time.perf_counter() - seen.received_at) * 1000 - call.tool_ms)
                self._settle_call(turn, call)
                ending = ending or call.name in self._options.end_tools
            await conversation.request_response()

    async def _read(self, conversation: Conversation) -> ResponseOutcome:
        timeout = self._options.response_timeout
        try:
            return await asyncio.wait_for(
                conversation.read_response(lambda event: self._emit(event, self._turn)), timeout
            )
        except asyncio.TimeoutError:
            raise BridgeError(
                f"The Realtime model did not finish its response within {timeout:g} s", reason="timeout"
            ) from None

    def _tool_call(self, seen: SeenCall, outcome: ResponseOutcome) -> ToolCall:
        return ToolCall(
            name=seen.name,
            arguments=parse_arguments(seen.arguments),
            raw_arguments=seen.arguments,
            call_id=seen.call_id,
            response_id=outcome.response_id,
        )

    def _settle_response(self, turn: Turn, outcome: ResponseOutcome) -> None:
        turn.statuses.append(outcome.status)
        turn.text += outcome.text
        turn.usage.add(outcome.usage)
        self.usage.add(outcome.usage)
        event = AgentResponse(outcome.response_id, outcome.status, outcome.text, outcome.reason, outcome.usage)
        self._emit(event, turn)
        if self._options.recorder is not None:
            self._options.recorder.agent(event)

    def _settle_call(self, turn: Turn, call: ToolCall, *, skipped: str | None = None) -> None:
        if skipped is not None:
            call.skipped = skipped
            turn.tool_calls.append(call)
        self._emit(ToolCallFinished(call), turn)
        if self._options.recorder is not None:
            self._options.recorder.function_call(call)

    def _emit(self, event: BridgeEvent, turn: Turn | None) -> None:
        if turn is not None:
            turn.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    # -- the end -------------------------------------------------------------------------------------------

    async def _finish(self, reason: EndReason, fault: BridgeError | None = None) -> None:
        """Close the Realtime session and send CallEnd, once: status 1 and the fault's line after a failure.

        Marked ended first, so CallEnd is never sent twice; then sent to its end whatever cancels this task
        (a hang-up's patience, the app stopping): a CallEnd cut short would never be sent again.
        """
        if self.ended:
            return
        self.ended, self.end_reason, self.error = True, reason, fault
        await _to_the_end(self._end(reason, fault, self._turn))

    async def _end(self, reason: EndReason, fault: BridgeError | None, turn: Turn | None) -> None:
        status = 1 if fault is not None else 0
        message = fault.message if fault is not None else None
        connected = self._connected_at is not None
        since = self._connected_at if self._connected_at is not None else self._started
        await self._close()
        acknowledgement = await self.vns_call.end(
            status,
            message,
            connected=connected,
            duration=time.monotonic() - since,
            log_information={"endedBy": reason},
        )
        if turn is not None:
            turn.ended, turn.end_reason = True, reason
        event = CallEnded(reason, status, message, acknowledgement)
        self._emit(event, turn)
        if self._options.recorder is not None:
            self._options.recorder.ended(event)

    async def _close(self) -> None:
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            with suppress(Exception):
                await conversation.close()


async def _to_the_end(operation: Awaitable[T]) -> T:
    """Await ``operation`` to its end even when this task is cancelled meanwhile; then the cancellation goes on.

    For the requests to the app: a tool handler cut short would stop half-way, holding the call's state until
    its lease expires, and a CallEnd cut short would never be sent again. Each is bounded by the app's own
    deadlines (the tool's timeout, CallEnd's wait for the longest tool lease).
    """
    task = asyncio.ensure_future(operation)
    cancelled: asyncio.CancelledError | None = None
    with anyio.CancelScope(shield=True):  # the call's time limit (an anyio scope) waits for it too
        while not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError as exc:  # a hang-up, the app stopping: after the request
                cancelled = exc
    if cancelled is not None:
        raise cancelled
    return task.result()


def _model_of(call: BridgedCall) -> str | None:
    target = call.target
    return (target.model if target is not None else None) or call.response.session.model


class CallScope(AbstractAsyncContextManager[BridgedCall]):
    """`RealtimeBridge.call`: CallStart and the session on entering; hang-up and CallEnd on leaving."""

    def __init__(
        self,
        place: PlaceCall,
        caller: dict[str, Any],
        options: CallOptions,
        on_event: Callable[[BridgeEvent], None] | None,
    ) -> None:
        self._place = place
        self._caller = caller
        self._options = options
        self._on_event = on_event
        self._stack = AsyncExitStack()
        self._call: BridgedCall | None = None

    async def __aenter__(self) -> BridgedCall:
        vns_call = await self._stack.enter_async_context(self._place(**self._caller))
        call = BridgedCall(self._options, vns_call, self._on_event)
        try:
            await call._connect()
        except BridgeError as fault:
            try:
                await call._finish("error", fault)
            finally:
                await self._stack.aclose()
            raise
        except BaseException:
            try:
                await call._finish("caller")
            finally:
                await self._stack.aclose()
            raise
        self._call = call
        return call

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        call, self._call = self._call, None
        try:
            if call is not None and not call.ended:
                if exc is None:
                    await call.hang_up()
                else:
                    # The block's own failure (or Ctrl-C) matters more than the hang-up's: it goes out anyway.
                    with suppress(Exception):
                        await call.hang_up()
        finally:
            await self._stack.aclose()
