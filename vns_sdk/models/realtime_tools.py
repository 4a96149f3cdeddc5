"""Tools the Realtime model may call, and how it chooses between them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator
from typing_extensions import TypeAliasType

from vns_sdk.models._base import OTHER_TAG, RealtimeModel, type_tag

__all__ = [
    "TOOL_NAME_PATTERN",
    "FunctionTool",
    "McpApprovalFilter",
    "McpTool",
    "McpToolFilter",
    "RealtimeTool",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMcp",
    "check_tool_name",
]

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
"""What OpenAI accepts as a function name."""

_TOOL_NAME = re.compile(TOOL_NAME_PATTERN)


def check_tool_name(name: str) -> str:
    """Check that `name` is a valid OpenAI function name.

    Args:
        name: The name.

    Returns:
        The name, unchanged.

    Raises:
        ValueError: The name is empty, longer than 64 characters, or has other characters than
            letters, digits, ``_`` and ``-``.
    """
    if not _TOOL_NAME.match(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "_-"))})
        why = f"it contains {', '.join(repr(c) for c in bad)}" if bad else f"it has {len(name)} characters"
        raise ValueError(f"invalid tool name {name!r}: {why}; a tool name is 1 to 64 letters, digits, '_' or '-'")
    return name


ToolName = Annotated[str, AfterValidator(check_tool_name), Field(json_schema_extra={"pattern": TOOL_NAME_PATTERN})]


class FunctionTool(RealtimeModel):
    """A function the model may call. VNS forwards the call to your tools URL and the reply back to the model.

    Attributes:
        name: The function's name: 1 to 64 letters, digits, ``_`` or ``-``.
        description: What the function does and when to call it; the model reads it.
        parameters: JSON Schema of the arguments (an ``object`` schema).
    """

    name: ToolName
    description: str | None = None
    type: Literal["function"] = "function"
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class McpToolFilter(RealtimeModel):
    """A selection of an MCP server's tools.

    Attributes:
        tool_names: The tools selected, by name.
        read_only: Select the tools that only read (or, with ``False``, the others).
    """

    tool_names: list[str] | None = None
    read_only: bool | None = None


class McpApprovalFilter(RealtimeModel):
    """Which MCP tools need approval before the model calls them.

    Attributes:
        always: Tools that always need approval.
        never: Tools that never need approval.
    """

    always: McpToolFilter | None = None
    never: McpToolFilter | None = None


class McpTool(RealtimeModel):
    """A remote MCP server whose tools the model may call directly (OpenAI calls it, not VNS).

    One of `server_url`, `connector_id` or `tunnel_id` says where the server is. `authorization` and
    `headers` carry credentials, so they are left out of the model's `repr`.

    Attributes:
        server_label: A label that names the server in tool calls.
        server_url: The server's URL.
        connector_id: An OpenAI connector in place of a URL, e.g. ``connector_googlecalendar``.
        tunnel_id: A tunnel in place of a URL.
        authorization: An OAuth access token for the server.
        headers: HTTP headers for the server.
        server_description: What the server offers; the model reads it.
        allowed_tools: The tools the model may use (names, or a filter); all when unset.
        require_approval: ``always``, ``never`` or a filter of the tools that need approval.
    """

    type: Literal["mcp"] = "mcp"
    server_label: str
    server_url: str | None = None
    connector_id: str | None = None
    tunnel_id: str | None = None
    authorization: str | None = Field(default=None, repr=False)
    headers: dict[str, str] | None = Field(default=None, repr=False)
    server_description: str | None = None
    allowed_tools: list[str] | McpToolFilter | None = None
    require_approval: Literal["always", "never"] | McpApprovalFilter | None = None

    @model_validator(mode="after")
    def _has_a_server(self) -> McpTool:
        if self.server_url is None and self.connector_id is None and self.tunnel_id is None:
            raise ValueError(f"MCP tool {self.server_label!r} needs one of server_url, connector_id or tunnel_id")
        return self


RealtimeTool = TypeAliasType(
    "RealtimeTool",
    Annotated[
        Annotated[FunctionTool, Tag("function")]
        | Annotated[McpTool, Tag("mcp")]
        | Annotated[dict[str, Any], Tag(OTHER_TAG)],
        # A tool without a `type` is a function, as OpenAI reads it.
        Discriminator(type_tag(frozenset({"function", "mcp"}), missing="function")),
    ],
)
"""A tool, chosen by its `type`; a kind of tool this release does not know stays a plain dict."""


class ToolChoiceFunction(RealtimeModel):
    """Make the model call this function.

    Attributes:
        name: The function's name.
    """

    type: Literal["function"] = "function"
    name: ToolName


class ToolChoiceMcp(RealtimeModel):
    """Make the model call a tool of this MCP server.

    Attributes:
        server_label: The server's label.
        name: The tool's name; any tool of the server when unset.
    """

    type: Literal["mcp"] = "mcp"
    server_label: str
    name: str | None = None


_tool_choice_type = type_tag(frozenset({"function", "mcp"}))


def _tool_choice_tag(value: Any) -> str:
    # A string is one of the modes; an object is chosen by its `type`.
    return _tool_choice_type(value) if isinstance(value, (dict, RealtimeModel)) else "mode"


ToolChoice = TypeAliasType(
    "ToolChoice",
    Annotated[
        Annotated[Literal["auto", "none", "required"], Tag("mode")]
        | Annotated[ToolChoiceFunction, Tag("function")]
        | Annotated[ToolChoiceMcp, Tag("mcp")]
        | Annotated[dict[str, Any], Tag(OTHER_TAG)],
        Discriminator(_tool_choice_tag),
    ],
)
"""``"auto"``, ``"none"``, ``"required"``, a `ToolChoiceFunction` or a `ToolChoiceMcp`."""
