"""`app.serve_mcp`: the app's own tools served over MCP, to the official SDK's client, and refused without credentials.

The app runs under uvicorn on loopback (lifespan included), as a deployed app does, and the MCP client
talks streamable HTTP to it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_servers import WEBHOOK_TOKEN, LoopbackServer
from pydantic import Field

from vns_sdk import CallContext, ConfigurationError, ToolError, VNSApp

MCP_TOKEN = "mcp-own-token-0b7d3a"


def agent(make_app: Callable[..., VNSApp], **serve: Any) -> VNSApp:
    app = make_app(end_conversation=True)

    @app.tool
    async def lookup_name_or_phone(
        call: CallContext,
        name: str | None = None,
        phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
    ) -> dict[str, Any]:
        """Looks up a person by name or phone number.

        Args:
            name: Name of the person to search for.
            phone_number: Phone number to search, in E.164 format.
        """
        call.state["lookups"] = call.state.get("lookups", 0) + 1
        if name and "ron" in name.lower():
            return {"contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}
        if not name and not phone_number:
            raise ToolError("Ask the caller for a name or a phone number.")
        return {"contactFound": False}

    @app.tool
    def add(a: int, b: int) -> int:
        """Adds two whole numbers."""
        return a + b

    app.serve_mcp(**serve)
    return app


def served(app: VNSApp) -> LoopbackServer:
    loopback = LoopbackServer(lambda: app)
    loopback.start()
    return loopback


@pytest.fixture
def app_http(make_app: Callable[..., VNSApp]) -> Iterator[LoopbackServer]:
    loopback = served(agent(make_app))
    yield loopback
    loopback.stop()


def mcp_url(loopback: LoopbackServer) -> str:
    return f"http://127.0.0.1:{loopback.port}/vns/mcp"


@asynccontextmanager
async def client(url: str, token: str | None) -> AsyncIterator[Client]:
    """The official SDK's client, presenting ``token`` as a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as mcp,
    ):
        yield mcp


async def test_an_mcp_client_lists_the_apps_tools_with_their_schemas(app_http: LoopbackServer) -> None:
    async with client(mcp_url(app_http), WEBHOOK_TOKEN) as mcp:
        listed = await mcp.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"lookup_name_or_phone", "add"}  # end_conversation ends a phone call: not served
    assert tools["lookup_name_or_phone"].input_schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Name of the person to search for."},
            "phoneNumber": {"type": "string", "description": "Phone number to search, in E.164 format."},
        },
    }
    assert tools["add"].description == "Adds two whole numbers."


async def test_an_mcp_client_calls_a_tool_and_gets_what_vns_would(app_http: LoopbackServer) -> None:
    async with client(mcp_url(app_http), WEBHOOK_TOKEN) as mcp:
        found = await mcp.call_tool("lookup_name_or_phone", {"name": "Ron"})
        total = await mcp.call_tool("add", {"a": 2, "b": 3})
        refused = await mcp.call_tool("lookup_name_or_phone", {})
        invalid = await mcp.call_tool("add", {"a": "two", "b": 3})
        unknown = await mcp.call_tool("end_conversation", {"user_input": "bye"})
    assert not found.is_error
    assert found.structured_content == {
        "contactFound": True,
        "contactName": "Ron Tanner",
        "phoneNumber": "+13035551212",
    }
    assert total.structured_content == {"result": 5}
    assert refused.is_error
    assert refused.structured_content == {
        "error": "tool_error",
        "message": "Ask the caller for a name or a phone number.",
    }
    assert invalid.is_error
    assert invalid.structured_content is not None
    assert invalid.structured_content["problems"] == [{"argument": "a", "problem": "must be a whole number"}]
    assert unknown.is_error
    assert unknown.structured_content is not None and unknown.structured_content["error"] == "unknown_tool"


async def test_without_credentials_the_client_is_refused(app_http: LoopbackServer) -> None:
    for token in (None, "not-the-token"):
        # The SDK reports the refusal as an error response, inside its task groups' exception groups.
        with pytest.raises(Exception, match="unhandled errors"):
            async with client(mcp_url(app_http), token) as mcp:
                await mcp.list_tools()
    async with httpx.AsyncClient() as http:
        response = await http.post(mcp_url(app_http), json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


async def test_a_token_of_its_own_replaces_the_webhook_token(make_app: Callable[..., VNSApp]) -> None:
    loopback = served(agent(make_app, token=MCP_TOKEN, path="tools-mcp"))
    try:
        url = f"http://127.0.0.1:{loopback.port}/vns/tools-mcp"
        async with client(url, MCP_TOKEN) as mcp:
            assert (await mcp.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}
        async with httpx.AsyncClient() as http:
            response = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            )
        assert response.status_code == 401
    finally:
        loopback.stop()


async def test_served_in_process_without_a_lifespan(make_app: Callable[..., VNSApp]) -> None:
    # A host that runs no lifespan (or a test client): the endpoint starts the SDK's session manager itself.
    app = agent(make_app)
    headers = {
        "Authorization": f"Bearer {WEBHOOK_TOKEN}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 20, "b": 22}},
    }
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/vns/mcp", json=body, headers=headers)
    finally:
        await app.shutdown()
    assert response.status_code == 200, response.text
    assert response.json()["result"]["structuredContent"] == {"result": 42}


def test_a_path_is_served_once(make_app: Callable[..., VNSApp]) -> None:
    app = make_app()
    app.serve_mcp()
    with pytest.raises(ConfigurationError, match="/vns/mcp is already a route"):
        app.serve_mcp("/mcp/")
    with pytest.raises(ConfigurationError, match="below /tools"):
        app.serve_mcp("/tools/mcp")
    app.serve_mcp("/mcp-2", token=MCP_TOKEN)
    assert app.url_path_for("mcp") == "/vns/mcp"


async def test_each_tool_call_is_logged_in_one_line(app_http: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vns_sdk.mcp"):
        async with client(mcp_url(app_http), WEBHOOK_TOKEN) as mcp:
            await mcp.call_tool("add", {"a": 1, "b": "x"})
    (line,) = [record.getMessage() for record in caplog.records if record.name == "vns_sdk.mcp"]
    assert line.startswith("mcp tools/call session=mcp-")
    assert "tool=add outcome=invalid_arguments" in line
