"""Fixtures of the MCP tests: a real calendar MCP server on loopback, and a `VNSApp` factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp_servers import WEBHOOK_TOKEN, LoopbackServer, calendar_server, serve

from vns_sdk import VNSApp


@pytest.fixture
def calendar() -> MCPServer:
    return calendar_server()


@pytest.fixture
def calendar_http(calendar: MCPServer) -> Iterator[LoopbackServer]:
    """The calendar server on loopback, stateless, answering JSON (how a server behind several workers runs)."""
    loopback = serve(calendar, json_response=True, stateless_http=True)
    loopback.start()
    yield loopback
    loopback.stop()


@pytest.fixture
def make_app() -> Callable[..., VNSApp]:
    def make(**kwargs: Any) -> VNSApp:
        kwargs.setdefault("webhook_token", WEBHOOK_TOKEN)
        kwargs.setdefault("openai_api_key", "sk-test-openai-key-5d1f")
        kwargs.setdefault("instructions", "You are the receptionist of a dental office.")
        return VNSApp(**kwargs)

    return make
