"""An MCP server declared in the session: the ``mcp`` tool that lets the Realtime model call it directly.

On a phone call OpenAI, not the app, calls such a server, so the declaration is all the app controls. The
defaults suit a caller on the line: nobody can approve a tool call, so approval is ``"never"`` and asking
for one is refused here, where the reason can be given, rather than leaving the model waiting during the
call; a server declared without ``allowed_tools`` offers the model everything it has, which deserves a
warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from vns_sdk._problems import problem_summary
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.models import McpTool, McpToolFilter

__all__ = ["phone_mcp_tool"]

logger = logging.getLogger("vns_sdk.mcp")

_NO_APPROVAL = (
    "nobody on a phone call can approve a tool call, so the model would wait for an approval that never "
    "comes; leave require_approval unset (it is 'never') and limit what the model may call with allowed_tools"
)


def phone_mcp_tool(
    server_label: str,
    *,
    server_url: str | None = None,
    connector_id: str | None = None,
    tunnel_id: str | None = None,
    authorization: str | None = None,
    headers: Mapping[str, str] | None = None,
    allowed_tools: Sequence[str] | McpToolFilter | None = None,
    require_approval: str = "never",
    server_description: str | None = None,
) -> McpTool:
    """The ``mcp`` tool of the session for a server the model calls directly, checked for a phone call.

    Raises:
        ConfigurationError: The server is not named by exactly one of ``server_url``, ``connector_id`` and
            ``tunnel_id``, the URL is not HTTP(S), approval is asked for, or a field is invalid.
    """
    where = [
        name
        for name, value in (("server_url", server_url), ("connector_id", connector_id), ("tunnel_id", tunnel_id))
        if value
    ]
    if len(where) != 1:
        raise ConfigurationError(
            f"MCP server {server_label!r}: give exactly one of server_url, connector_id or tunnel_id"
            + (f" (got {' and '.join(where)})" if where else "")
        )
    if server_url is not None and urlsplit(server_url).scheme not in ("https", "http"):
        raise ConfigurationError(f"MCP server {server_label!r}: server_url must be an https:// URL")
    if require_approval != "never":
        raise ConfigurationError(
            f"MCP server {server_label!r}: require_approval={require_approval!r} is refused: {_NO_APPROVAL}."
        )
    if isinstance(allowed_tools, str):
        raise ConfigurationError(f"MCP server {server_label!r}: allowed_tools is a list of tool names, not one string")
    fields: dict[str, Any] = {
        "server_label": server_label,
        "server_url": server_url,
        "connector_id": connector_id,
        "tunnel_id": tunnel_id,
        "authorization": authorization,
        "headers": dict(headers) if headers is not None else None,
        "server_description": server_description,
        "allowed_tools": list(allowed_tools) if isinstance(allowed_tools, Sequence) else allowed_tools,
        # Sent even though it is the default here: OpenAI's own default is to ask for approval.
        "require_approval": "never",
    }
    try:
        tool = McpTool.model_validate({name: value for name, value in fields.items() if value is not None})
    except ValidationError as exc:
        raise ConfigurationError(f"MCP server {server_label!r}: {problem_summary(exc)}") from None
    if allowed_tools is None:
        logger.warning(
            "MCP server %r is declared without allowed_tools: the model may call every tool it has, including "
            "any added later. List the tools a caller needs with allowed_tools=[...].",
            server_label,
        )
    return tool
