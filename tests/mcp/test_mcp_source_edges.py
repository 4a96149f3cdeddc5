"""`app.include_mcp` against a server that misbehaves: slow to list, odd tools, protocol errors, a changing list.

The server is the SDK's low-level `Server`, whose handlers answer whatever a test sets, served on loopback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import mcp_types as types
import pytest
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_servers import LoopbackServer

from vns_sdk import VNSApp
from vns_sdk.testing import VNSSimulator

OBJECT = {"type": "object", "properties": {"q": {"type": "string"}}}


class Odd:
    """What the low-level server answers; a test changes it between calls."""

    def __init__(self) -> None:
        self.tools: list[types.Tool] = [types.Tool(name="search", description="Searches.", input_schema=OBJECT)]
        self.list_delay = 0.0

    def server(self) -> Server[Any]:
        async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
            await asyncio.sleep(self.list_delay)
            return types.ListToolsResult(tools=self.tools)

        async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            if params.name == "broken":
                raise MCPError(types.INVALID_PARAMS, "internal detail: table calendar_v2 is locked")
            return types.CallToolResult(content=[types.TextContent(type="text", text=f"{params.name} ran")])

        return Server("odd", on_list_tools=list_tools, on_call_tool=call_tool)


@pytest.fixture
def odd() -> Odd:
    return Odd()


@pytest.fixture
def odd_http(odd: Odd) -> Iterator[LoopbackServer]:
    server = odd.server()
    loopback = LoopbackServer(lambda: server.streamable_http_app(json_response=True, stateless_http=True))
    loopback.start()
    yield loopback
    loopback.stop()


async def test_a_slow_listing_leaves_the_call_with_the_tools_listed_before(
    make_app: Callable[..., VNSApp],
    odd: Odd,
    odd_http: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vns_sdk.mcp import _source

    now = [1000.0]
    monkeypatch.setattr(_source, "time", type("Clock", (), {"monotonic": staticmethod(lambda: now[0])}))
    app = make_app()
    app.include_mcp(odd_http.url, list_timeout=0.2, cache_ttl=60)
    async with VNSSimulator(app) as vns:
        async with vns.acall() as call:
            assert set(call.tools) == {"search"}
        odd.tools = [*odd.tools, types.Tool(name="archive", input_schema=OBJECT)]
        odd.list_delay = 30
        now[0] += 60  # the listing has expired
        with caplog.at_level(logging.WARNING, logger="vns_sdk.mcp"):
            async with vns.acall() as call:
                assert set(call.tools) == {"search"}
    assert "did not list its tools within 0.2 s" in caplog.text


async def test_tools_that_go_or_change_are_taken_out_or_rebuilt(
    make_app: Callable[..., VNSApp], odd: Odd, odd_http: LoopbackServer
) -> None:
    app = make_app()
    source = app.include_mcp(odd_http.url)
    async with VNSSimulator(app):
        assert await source.refresh() == ["search"]
        before = app.tools["search"]
        odd.tools = [
            types.Tool(name="search", description="Searches better.", input_schema=OBJECT),
            types.Tool(name="lookup", input_schema={"type": "object"}),
        ]
        assert sorted(await source.refresh()) == ["lookup", "search"]
        assert app.tools["search"] is not before
        assert app.tools["search"].description == "Searches better."
        unchanged = app.tools["lookup"]
        odd.tools = odd.tools[1:]
        assert await source.refresh() == ["lookup"]
        assert "search" not in app.tools
        assert app.tools["lookup"] is unchanged


async def test_tools_that_cannot_be_offered_are_left_out_with_a_warning(
    make_app: Callable[..., VNSApp], odd: Odd, odd_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    recursive = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
    }
    odd.tools = [
        types.Tool(name="tree", input_schema=recursive),
        types.Tool(name="a.b", input_schema=OBJECT),
        types.Tool(name="a_b", input_schema=OBJECT),
        types.Tool(name="x" * 80, input_schema=OBJECT),
    ]
    app = make_app()
    source = app.include_mcp(odd_http.url)
    with caplog.at_level(logging.WARNING, logger="vns_sdk.mcp"):
        async with VNSSimulator(app):
            await source.refresh()
    assert source.tools == {"a_b": "a.b", "x" * 64: "x" * 80}
    assert "the tool 'tree' is left out" in caplog.text
    assert "two tools are both named 'a_b'" in caplog.text


async def test_a_protocol_error_is_answered_without_the_servers_detail(
    make_app: Callable[..., VNSApp], odd: Odd, odd_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    odd.tools = [*odd.tools, types.Tool(name="broken", input_schema=OBJECT)]
    app = make_app()
    app.include_mcp(odd_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        reply = await call.invoke("broken", q="x")
        after = await call.invoke("search", q="x")
    assert reply == {
        "error": "tool_error",
        "message": "The tool broken failed on the service that runs it. Tell the caller it did not work this time, "
        "and offer to try again or to help another way.",
    }
    assert "table calendar_v2 is locked" in caplog.text  # the log says why
    assert after == {"result": "search ran"}  # and the session is still good


async def test_a_server_that_never_answers_the_connection_is_given_up(
    make_app: Callable[..., VNSApp], caplog: pytest.LogCaptureFixture
) -> None:
    # A socket that accepts connections and never answers: the session cannot open.
    done = asyncio.Event()
    accepted: list[asyncio.Event] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        closed = asyncio.Event()
        accepted.append(closed)
        await done.wait()
        writer.close()
        await writer.wait_closed()
        closed.set()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        app = make_app()
        source = app.include_mcp(f"http://127.0.0.1:{port}/mcp", connect_timeout=0.2, list_timeout=5)
        with caplog.at_level(logging.WARNING, logger="vns_sdk.mcp"):
            async with VNSSimulator(app):
                assert source.tools == {}
    finally:
        done.set()
        listener.close()
        await listener.wait_closed()
        for closed in accepted:  # each handler closes its side before the test's loop ends
            await asyncio.wait_for(closed.wait(), 20)
    assert accepted
    assert "did not open a session within 0.2 s" in caplog.text
