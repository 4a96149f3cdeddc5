"""`app.include_mcp`: a real MCP server's tools offered in CallStart and answered through the app's tools route.

Each test drives whole calls with the VNS simulator (CallStart, tool calls with the per-call token, CallEnd)
against an app whose tools come from the calendar MCP server of `mcp_servers`, on loopback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import Context, MCPServer
from mcp_servers import LoopbackServer, serve, wait_until

from vns_sdk import ConfigurationError, VNSApp
from vns_sdk.testing import VNSSimulator


async def test_lists_the_server_tools_as_function_tools_with_realtime_safe_schemas(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        tools = call.tools
    assert {"free_slots", "opening_hours", "book", "calendar_holidays", "office"} <= set(tools)
    book = tools["book"]
    assert book.description is not None and book.description.startswith("Books an appointment.")
    # Titles dropped; `note: str | None = None` shown as an optional string, without null or a default.
    assert book.parameters == {
        "type": "object",
        "properties": {
            "day": {"type": "string"},
            "time": {"type": "string"},
            "name": {"type": "string"},
            "note": {"type": "string"},
        },
        "required": ["day", "time", "name"],
    }


async def test_structured_content_is_what_the_model_hears(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    with caplog.at_level(logging.INFO, logger="vns_sdk.app"):
        async with VNSSimulator(app) as vns, vns.acall() as call:
            reply = await call.invoke("free_slots", day="2025-03-03")
            booked = await call.invoke("book", day="2025-03-03", time="09:00", name="Ada")
    assert reply == {"result": [{"time": "2025-03-03T09:00", "free": True}, {"time": "2025-03-03T10:00", "free": True}]}
    # VNS called the app's tools route, which logged the call as it logs any tool's.
    assert "webhook tools" in caplog.text and "tool=book outcome=ok" in caplog.text
    assert booked == {"booked": True, "day": "2025-03-03", "time": "09:00", "name": "Ada"}


async def test_text_content_is_a_result_and_json_text_an_object(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        assert await call.invoke("opening_hours") == {"result": "Monday to Friday, 9 to 17."}
        assert await call.invoke("office", city="Denver") == {"city": "Denver", "phone": "+13035550100"}


async def test_an_error_result_is_the_servers_words_for_the_model(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        await call.invoke("book", day="2025-03-03", time="09:00", name="Ada")
        reply = await call.invoke("book", day="2025-03-03", time="09:00", name="Grace")
    # The server's own text, as its SDK writes it: MCP servers write error results for a model to read.
    assert reply == {
        "error": "tool_error",
        "message": "Error executing tool book: 09:00 is already taken on 2025-03-03. Offer the caller 10:00 instead.",
    }


async def test_arguments_are_checked_against_the_servers_schema_before_the_call(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app, validate=False) as vns, vns.acall() as call:
        reply = await call.invoke("calendar_holidays", year="next year")
        missing = await call.invoke("book", day="2025-03-03")
    assert reply["error"] == "invalid_arguments"
    assert reply["problems"] == [{"argument": "year", "problem": "must be a whole number"}]
    assert missing["problems"] == [
        {"argument": "time", "problem": "is required but was not given"},
        {"argument": "name", "problem": "is required but was not given"},
    ]


async def test_names_are_prefixed_and_tools_filtered_on_request(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    source = app.include_mcp(calendar_http.url, prefix="cal_", allowed_tools=["book", "calendar.holidays"])
    async with VNSSimulator(app) as vns, vns.acall() as call:
        assert set(call.tools) == {"cal_book", "cal_calendar_holidays"}
        assert await call.invoke("cal_calendar_holidays", year=2025) == {"result": ["2025-12-25"]}
    assert source.tools == {"cal_book": "book", "cal_calendar_holidays": "calendar.holidays"}


async def test_a_slow_tool_is_answered_in_time(make_app: Callable[..., VNSApp], calendar_http: LoopbackServer) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url, tool_timeouts={"slow_search": 0.2})
    async with VNSSimulator(app) as vns, vns.acall() as call:
        reply = await call.invoke("slow_search", seconds=30)
        after = await call.invoke("opening_hours")
    assert reply["error"] == "timeout"
    assert "took too long" in reply["message"]
    assert after == {"result": "Monday to Friday, 9 to 17."}  # the session survived the abandoned call


async def test_a_server_that_goes_down_is_answered_in_words_and_reconnected_when_back(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        assert (await call.invoke("opening_hours"))["result"]
        calendar_http.stop()
        down = await call.invoke("opening_hours")
        calendar_http.start()
        back = await call.invoke("opening_hours")
    assert down == {
        "error": "tool_error",
        "message": "The tool opening_hours cannot reach the service it needs right now. Tell the caller it is not "
        "available at the moment, and offer to try again later or to help another way.",
    }
    assert back == {"result": "Monday to Friday, 9 to 17."}
    assert "could not be reached" in caplog.text


async def test_a_server_down_at_startup_leaves_the_call_without_its_tools(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    calendar_http.stop()
    app = make_app()

    @app.tool
    def ping() -> str:
        """Answers pong."""
        return "pong"

    app.include_mcp(calendar_http.url)
    with caplog.at_level(logging.WARNING, logger="vns_sdk.mcp"):
        async with VNSSimulator(app) as vns, vns.acall() as call:
            assert set(call.tools) == {"ping"}
    assert "Cannot list the tools of 127.0.0.1" in caplog.text


async def test_a_tool_list_that_changes_is_read_again_before_the_next_call(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    app = make_app()
    source = app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns:
        async with vns.acall() as call:
            assert "join_waiting_list" not in call.tools
            assert await call.invoke("open_waiting_list") == {"result": "The waiting list is open."}
        await wait_until(source.stale, "the server's tools-changed event")
        async with vns.acall() as call:
            assert "join_waiting_list" in call.tools
            reply = await call.invoke("join_waiting_list", name="Ada")
    assert reply == {"result": "Ada is on the waiting list."}


async def test_the_listing_is_kept_for_its_time_to_live(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vns_sdk.mcp import _source

    now = [1000.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return now[0]

    monkeypatch.setattr(_source, "time", Clock)
    app = make_app()
    source = app.include_mcp(calendar_http.url, cache_ttl=60)
    async with VNSSimulator(app) as vns:
        async with vns.acall():
            pass
        assert not source.stale()
        now[0] += 59
        assert not source.stale()
        now[0] += 1
        assert source.stale()
        async with vns.acall():
            pass
        assert not source.stale()


async def test_the_app_tool_keeps_its_name_over_a_servers_tool(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.tool
    def opening_hours() -> str:
        """The app's own opening hours."""
        return "always open"

    app.include_mcp(calendar_http.url)
    async with VNSSimulator(app) as vns, vns.acall() as call:
        assert await call.invoke("opening_hours") == {"result": "always open"}
        assert "book" in call.tools
    assert "already has a tool named 'opening_hours'" in caplog.text


async def test_headers_reach_the_server_and_stay_out_of_the_logs(
    make_app: Callable[..., VNSApp], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Any] = []
    server = MCPServer("echo", log_level="WARNING")

    @server.tool()
    def whoami(ctx: Context) -> str:
        """Says which key the request carried."""
        seen.append((ctx.headers or {}).get("x-api-key"))
        return "ok"

    loopback = serve(server, json_response=True, stateless_http=True)
    loopback.start()
    try:
        app = make_app()
        app.include_mcp(loopback.url, headers={"X-Api-Key": "echo-key-93f01c"})
        with caplog.at_level(logging.DEBUG, logger="vns_sdk"):
            async with VNSSimulator(app) as vns, vns.acall() as call:
                await call.invoke("whoami")
                loopback.stop()
                await call.invoke("whoami")
    finally:
        loopback.stop()
    assert seen == ["echo-key-93f01c"]
    assert "echo-key-93f01c" not in caplog.text


def test_credentials_in_the_url_are_registered_as_secrets(
    make_app: Callable[..., VNSApp], caplog: pytest.LogCaptureFixture
) -> None:
    make_app().include_mcp("https://user:pass-5e1b@calendar.example.com/mcp?api_key=query-key-7d21c9&view=day")
    logger = logging.getLogger("vns_sdk.mcp")
    with caplog.at_level(logging.INFO, logger="vns_sdk.mcp"):
        logger.warning("failed: https://user:pass-5e1b@calendar.example.com/mcp?api_key=query-key-7d21c9&view=day")
    assert "pass-5e1b" not in caplog.text and "query-key-7d21c9" not in caplog.text
    assert "view=day" in caplog.text


@pytest.mark.slow
async def test_a_server_run_as_a_subprocess_over_stdio(make_app: Callable[..., VNSApp]) -> None:
    app = make_app()
    source = app.include_mcp(command=[sys.executable, str(Path(__file__).with_name("stdio_calendar.py"))])
    async with VNSSimulator(app) as vns, vns.acall() as call:
        assert "book" in call.tools
        booked = await call.invoke("book", day="2025-03-03", time="10:00", name="Ada")
    assert booked == {"booked": True, "day": "2025-03-03", "time": "10:00", "name": "Ada"}
    assert source.label == Path(sys.executable).name


def test_include_mcp_is_given_one_server(make_app: Callable[..., VNSApp]) -> None:
    app = make_app()
    for wrong in ({}, {"url": "https://a.example/mcp", "command": ["srv"]}, {"command": "python server.py"}):
        with pytest.raises(ConfigurationError, match="url, or its command line"):
            app.include_mcp(**wrong)
    with pytest.raises(ConfigurationError, match="prefix"):
        app.include_mcp("https://a.example/mcp", prefix="cal.")
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        app.include_mcp("https://a.example/mcp", timeout=0)
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        app.include_mcp("calendar.example.com/mcp")
    assert app.build_session().tools == []


def test_one_app_serves_calls_on_successive_event_loops(
    make_app: Callable[..., VNSApp], calendar_http: LoopbackServer
) -> None:
    # The sync simulator runs each `with` block's app in a loop of its own, as successive tests do.
    app = make_app()
    app.include_mcp(calendar_http.url)
    for _ in range(2):
        with VNSSimulator(app) as vns, vns.call() as call:
            assert call.invoke("opening_hours") == {"result": "Monday to Friday, 9 to 17."}
