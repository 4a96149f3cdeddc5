"""Mock tools: answer a function call in the app's place for one test, so no real table gets booked."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from vns_sdk.realtime import ToolCall

__all__ = ["MOCKED_PATH", "MockedTool", "ToolMocks"]

MOCKED_PATH = "(mocked)"
"""The `ToolCall.path` of a call a mock answered (no request reached the app)."""

_TIMEOUT = {"error": "tool_timeout", "message": "The tool did not answer in time. Tell the caller to try again later."}


@dataclass(frozen=True)
class MockedTool:
    """What a mocked tool does: return a reply, fail with a tool error, or time out."""

    kind: Literal["returns", "fails", "times_out"]
    reply: Any = None
    delay: float = 0.0


class ToolMocks:
    """The tools a call answers itself, by name; the others go to the app.

    ```python
    mocks = ToolMocks()
    mocks.returns("book_table", {"booked": True, "table": 12})
    mocks.fails("lookup_name_or_phone", "The directory is down.")
    mocks.times_out("send_sms")
    ```

    Attributes:
        calls: The function calls the mocks answered, in order.
    """

    def __init__(self) -> None:
        self.tools: dict[str, MockedTool] = {}
        self.calls: list[ToolCall] = []

    def __repr__(self) -> str:
        return f"<ToolMocks {', '.join(f'{name}: {mock.kind}' for name, mock in self.tools.items()) or 'none'}>"

    def returns(self, name: str, reply: Mapping[str, Any] | Callable[[dict[str, Any]], Any]) -> ToolMocks:
        """The tool answers `reply` (a JSON object, or a function of the arguments returning one)."""
        self.tools[name] = MockedTool("returns", reply)
        return self

    def fails(self, name: str, message: str = "The tool failed.") -> ToolMocks:
        """The tool answers a tool error, as a vns-sdk tool raising ``ToolError(message)`` does."""
        self.tools[name] = MockedTool("fails", {"error": "tool_error", "message": message})
        return self

    def times_out(self, name: str, *, after: float = 0.0) -> ToolMocks:
        """The tool does not answer: after `after` seconds the model hears a ``tool_timeout`` error."""
        self.tools[name] = MockedTool("times_out", dict(_TIMEOUT), delay=after)
        return self

    def remove(self, name: str) -> None:
        """The tool goes to the app again."""
        self.tools.pop(name, None)

    async def __call__(self, call: ToolCall) -> bool:
        """Answer `call` if its tool is mocked (the bridge's ``tool_override``); False sends it to the app."""
        mock = self.tools.get(call.name)
        if mock is None or call.arguments is None:
            return False
        if mock.delay:
            await anyio.sleep(mock.delay)
        reply = mock.reply(dict(call.arguments)) if callable(mock.reply) else mock.reply
        call.path = MOCKED_PATH
        call.reply = reply
        call.output = json.dumps(reply, ensure_ascii=False, default=str)
        if mock.kind == "times_out":
            call.problem = "the mocked tool timed out: the model heard a tool_timeout error"
        else:
            call.ran, call.status = True, 200
        self.calls.append(call)
        return True
