"""How a turn and a conversation read in a failure message and in a judge's prompt."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from vns_sdk.realtime import AgentResponse, CallEnded, ToolCall, ToolCallFinished, Turn

__all__ = ["conversation_text", "describe_call", "describe_turn"]

_LIMIT = 300


def _short(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 3] + "..."


def _json(value: Any) -> str:
    return _short(json.dumps(value, ensure_ascii=False, default=str))


def describe_call(call: ToolCall) -> list[str]:
    """A function call and what became of it, in a line or two."""
    arguments = _json(call.arguments) if call.arguments is not None else repr(_short(call.raw_arguments))
    lines = [f"⚙ {call.name} {arguments}"]
    if call.skipped and not call.ran and call.output is None:
        lines.append(f"  not run: {call.skipped}")
    elif call.path == "(mocked)":
        lines.append(f"  ← mocked: {_json(call.reply)}")
    elif call.status is not None:
        lines.append(f"  ← HTTP {call.status}: {_json(call.reply)}")
    if call.problem:
        lines.append(f"  ✗ {call.problem}")
    return lines


def describe_turn(turn: Turn) -> str:
    """What the caller said and each event of the turn, one per line, indented for a report."""
    lines = [f"caller: {turn.caller!r}"]
    for event in turn.events:
        if isinstance(event, AgentResponse):
            status = "" if event.status == "completed" else f"  (response {event.status})"
            if event.text or status:
                lines.append(f"agent: {event.text!r}{status}")
        elif isinstance(event, ToolCallFinished):
            lines.extend(describe_call(event.call))
        elif isinstance(event, CallEnded):
            lines.append(f"call ended: {event.reason}" + (f" ({event.error})" if event.error else ""))
    return "\n".join(f"  {line}" for line in lines)


def conversation_text(turns: Iterable[Turn]) -> str:
    """The conversation as the judge reads it: who said what, and the tools the agent called."""
    lines = []
    for turn in turns:
        lines.append(f"Caller: {turn.caller}")
        for event in turn.events:
            if isinstance(event, AgentResponse) and event.text:
                lines.append(f"Agent: {event.text}")
            elif isinstance(event, ToolCallFinished) and event.call.output is not None:
                lines.append(f"(The agent called {event.call.name} {_json(event.call.arguments)}: {event.call.output})")
            elif isinstance(event, CallEnded):
                lines.append(f"(The call ended: {event.reason}.)")
    return "\n".join(lines)
