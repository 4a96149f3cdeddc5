"""`ToolArgumentsError`: the arguments the model sent do not fit the tool's signature."""

from __future__ import annotations

from vns_sdk.exceptions import VNSError

__all__ = ["ToolArgumentsError"]


class ToolArgumentsError(VNSError, ValueError):
    """The model called a tool with missing or wrong arguments.

    `invoke_tool` turns it into an ``invalid_arguments`` reply, so the model can ask the caller
    again or retry; `Tool.run` lets it out.

    Attributes:
        tool_name: The tool that was called.
        problems: One entry per problem, in plain words: ``{"argument": "<wire name>", "problem": "<text>"}``.
            The argument is the name the model uses (the alias), with a dotted path and ``[index]`` for
            nested values, for example ``"address.zip"`` or ``"items[2].quantity"``.
    """

    def __init__(self, tool_name: str, problems: list[dict[str, str]]) -> None:
        self.tool_name = tool_name
        self.problems = problems
        summary = "; ".join(f"{p['argument']} {p['problem']}" for p in problems)
        super().__init__(f"Invalid arguments for tool {tool_name!r}: {summary}")
