"""MCP both ways: MCP servers as tools of a call, and the app's own tools served over MCP.

- `VNSApp.mcp_server` declares a server in the session (an ``mcp`` tool): the Realtime model calls it
  directly, OpenAI makes the requests.
- `VNSApp.include_mcp` brings a server's tools in as the app's own function tools (`McpToolSource`): VNS
  calls them at the app's tools route and the app passes each call on to the server.
- `VNSApp.serve_mcp` serves the app's tools to any MCP client (`McpEndpoint`).

The last two need the official MCP SDK (``pip install 'vns-sdk[mcp]'``); it is imported when they are
used, not with this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vns_sdk.exceptions import McpServerError

if TYPE_CHECKING:
    from vns_sdk.mcp._server import McpEndpoint
    from vns_sdk.mcp._source import McpToolSource

__all__ = ["McpEndpoint", "McpServerError", "McpToolSource"]

_LOCATIONS = {"McpEndpoint": "vns_sdk.mcp._server", "McpToolSource": "vns_sdk.mcp._source"}


def __getattr__(name: str) -> Any:
    location = _LOCATIONS.get(name)
    if location is None:
        raise AttributeError(f"module 'vns_sdk.mcp' has no attribute {name!r}")
    value = getattr(importlib.import_module(location), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
