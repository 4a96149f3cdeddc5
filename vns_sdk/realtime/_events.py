"""What a bridged call is made of: turns, tool calls, token usage, and the events streamed while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AgentResponse",
    "AgentSpeech",
    "BridgeEvent",
    "CallEnded",
    "EndReason",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallStarted",
    "Turn",
    "Usage",
]

EndReason = Literal["caller", "agent", "max_seconds", "error"]


@dataclass
class Usage:
    """Tokens used, from the ``usage`` of each ``response.done``.

    Attributes:
        input_tokens: Input tokens (text and audio, cached ones included).
        output_tokens: Output tokens.
        total_tokens: Both.
        responses: How many responses the figures add up.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    responses: int = 0

    def add(self, other: Usage) -> None:
        """Add another count to this one."""
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.total_tokens += other.total_tokens
        self.responses += other.responses


@dataclass
class ToolCall:
    """A function the model called, and what became of it.

    Attributes:
        name: The function's name.
        arguments: The arguments, parsed (None when the model's text was not a JSON object).
        raw_arguments: The arguments as the model sent them (JSON text).
        call_id: The model's id of the call.
        response_id: The response that made the call.
        ran: Whether the tool request was sent to the app (a call in a cancelled or incomplete
            response, or made while the call was ending, is not).
        skipped: Why it was not run, if it was not.
        status: The HTTP status the tool endpoint answered (None if it was not reached).
        reply: The endpoint's answer: its JSON, or its text when it was not JSON.
        output: What the model heard (the ``function_call_output`` sent back).
        problem: What went wrong, in words, when the endpoint did not answer a 200 with a JSON object.
        path: The path (and query) the tool request went to.
        tool_ms: How long the tool endpoint took to answer, in milliseconds.
        bridge_ms: The bridge's own time for the call, in milliseconds: from the model's
            ``function_call_arguments.done`` to the ``function_call_output`` sent, less `tool_ms`.
    """

    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str
    call_id: str
    response_id: str | None = None
    ran: bool = False
    skipped: str | None = None
    status: int | None = None
    reply: Any = None
    output: str | None = None
    problem: str | None = None
    path: str | None = None
    tool_ms: float = 0.0
    bridge_ms: float = 0.0


@dataclass
class Turn:
    """One thing the caller said and everything the agent did about it.

    Attributes:
        caller: What the caller said.
        text: The agent's words, all responses of the turn joined.
        tool_calls: The functions the model called, in order (those not run included).
        statuses: The status of each response of the turn (``completed``, ``cancelled``, ...).
        usage: The tokens the turn's responses used.
        ended: Whether the call ended during the turn.
        end_reason: Why it ended, if it did.
        events: Every event of the turn, in order (for reports).
    """

    caller: str
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    ended: bool = False
    end_reason: EndReason | None = None
    events: list[BridgeEvent] = field(default_factory=list)

    def tool(self, name: str) -> ToolCall:
        """The first call of this tool in the turn.

        Raises:
            LookupError: The model did not call it in this turn.
        """
        found = next((call for call in self.tool_calls if call.name == name), None)
        if found is None:
            called = ", ".join(call.name for call in self.tool_calls) or "none"
            raise LookupError(f"The model did not call {name!r} in this turn (it called: {called}).")
        return found


@dataclass(frozen=True)
class AgentSpeech:
    """A piece of the agent's words, as the model streams them."""

    delta: str
    response_id: str | None


@dataclass(frozen=True)
class AgentResponse:
    """A response of the model ended (``response.done``).

    Attributes:
        response_id: The response's id.
        status: ``completed``, ``cancelled``, ``incomplete`` or ``failed``.
        text: The words of this response.
        reason: The ``status_details.reason`` of a cancelled or incomplete response.
        usage: Its tokens.
    """

    response_id: str | None
    status: str
    text: str
    reason: str | None
    usage: Usage


@dataclass(frozen=True)
class ToolCallStarted:
    """The bridge is sending a tool request to the app, as VNS would."""

    call: ToolCall


@dataclass(frozen=True)
class ToolCallFinished:
    """A function call is settled: answered and its output sent to the model, or not run."""

    call: ToolCall


@dataclass(frozen=True)
class CallEnded:
    """The call is over and CallEnd was sent.

    Attributes:
        reason: ``caller`` (hung up), ``agent`` (``end_conversation``), ``max_seconds`` or ``error``.
        status: The CallEnd status sent (0: completed).
        error: The error message sent, if any.
        acknowledgement: The app's answer to CallEnd.
    """

    reason: EndReason
    status: int
    error: str | None
    acknowledgement: dict[str, Any] | None


BridgeEvent = AgentSpeech | AgentResponse | ToolCallStarted | ToolCallFinished | CallEnded
"""Everything the bridge reports while a call runs."""
