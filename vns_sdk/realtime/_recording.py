"""The conversation's own lines in a transcript: what the caller said, what the agent said, what it called.

They go into the same JSON Lines file as the call's webhook exchanges (which the simulator writes), with
``"kind": "conversation"``; `vns-sdk replay` skips them and replays the exchanges. Keys and tokens are
redacted as in every transcript::

    {"kind": "conversation", "role": "caller", "at": "...", "text": "Can you look up Ron?"}
    {"kind": "conversation", "role": "function_call", "at": "...", "name": "lookup_name_or_phone",
     "call_id": "call_0012", "arguments": {"name": "Ron"}, "ran": true, "status": 200, "output": "{...}",
     "tool_ms": 2.1, "bridge_ms": 0.4}
    {"kind": "conversation", "role": "agent", "at": "...", "text": "Ron Tanner's number is ...",
     "response_id": "resp_0015", "status": "completed", "usage": {...}}
    {"kind": "conversation", "role": "end", "at": "...", "reason": "caller", "status": 0, "error": null}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk.realtime._events import AgentResponse, CallEnded, ToolCall

__all__ = ["CONVERSATION_KIND", "ConversationRecorder", "redact"]

CONVERSATION_KIND = "conversation"


def redact(value: Any) -> Any:
    """A copy of a JSON value (or text) with keys and tokens replaced by ``<redacted>``, as in every transcript.

    What the bridge writes or shows (transcripts, error lines, the screen of ``vns-sdk chat``) goes
    through this, the transcripts' own redaction.
    """
    from vns_sdk._redaction import redact as redact_value

    return redact_value(value)


class ConversationRecorder:
    """Appends conversation lines to a transcript file (the webhook exchanges are written beside them).

    Args:
        path: The transcript file; lines are appended.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)

    def caller(self, text: str) -> None:
        """The caller said `text`."""
        self._write("caller", text=text)

    def agent(self, response: AgentResponse) -> None:
        """A response of the model ended."""
        fields: dict[str, Any] = {"text": response.text, "response_id": response.response_id, "status": response.status}
        if response.reason:
            fields["reason"] = response.reason
        fields["usage"] = asdict(response.usage)
        self._write("agent", **fields)

    def function_call(self, call: ToolCall) -> None:
        """A function call settled (run, or not)."""
        fields: dict[str, Any] = {
            "name": call.name,
            "call_id": call.call_id,
            "arguments": call.arguments if call.arguments is not None else call.raw_arguments,
            "ran": call.ran,
        }
        if call.skipped:
            fields["skipped"] = call.skipped
        fields.update(status=call.status, output=call.output)
        if call.problem:
            fields["problem"] = call.problem
        fields.update(tool_ms=round(call.tool_ms, 3), bridge_ms=round(call.bridge_ms, 3))
        self._write("function_call", **fields)

    def ended(self, event: CallEnded) -> None:
        """The call ended."""
        self._write("end", reason=event.reason, status=event.status, error=event.error)

    def _write(self, role: str, **fields: Any) -> None:
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = {"kind": CONVERSATION_KIND, "role": role, "at": at, **redact(fields)}
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
