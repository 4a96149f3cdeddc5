"""Faults on the Realtime side and at the tool endpoint: one clear line, and a clean hang-up with CallEnd."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from bridge_apps import KEY, TOKEN, Ended, ToolFaults, build_app

from vns_sdk import VNSApp
from vns_sdk.exceptions import VNSError
from vns_sdk.realtime import BridgeError, RealtimeBridge
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer


def assert_hung_up_with(ended: Ended, error: BridgeError, *, connected: bool) -> None:
    report, _ = ended[-1]
    assert (report.status, report.error_message) == (1, error.message)
    assert report.log_information == {"endedBy": "error"}
    assert (report.call_connected is not None) is connected
    assert "\n" not in error.message and KEY not in error.message


async def test_no_key_anywhere(ended: Ended, no_openai_environment: None) -> None:
    app = build_app(ended, openai_api_key=None)
    async with ScriptedRealtimeServer() as server:
        with pytest.raises(BridgeError) as failed:
            async with RealtimeBridge(app, realtime_url=server.url()).call():
                pass
        assert server.connections == []
    assert failed.value.reason == "no_key"
    assert "OPENAI_API_KEY is not set" in failed.value.message
    assert isinstance(failed.value, VNSError)
    assert_hung_up_with(ended, failed.value, connected=False)


async def test_a_key_the_endpoint_refuses(ended: Ended) -> None:
    app = build_app(ended, openai_api_key="sk-revoked-key-0123456789")
    async with ScriptedRealtimeServer(api_key=KEY) as server:
        where = f"{server.base_url}/v1/realtime"
        with pytest.raises(BridgeError) as failed:
            async with RealtimeBridge(app, realtime_url=server.url()).call():
                pass
    error = failed.value
    assert (error.reason, error.status, error.code) == ("key_refused", 401, "invalid_api_key")
    assert error.message == (
        f"The Realtime endpoint refused the key (HTTP 401 from {where}): Incorrect API key provided."
    )
    assert "revoked" not in error.message
    assert_hung_up_with(ended, error, connected=False)


async def test_an_unknown_model(app: VNSApp, ended: Ended) -> None:
    async with ScriptedRealtimeServer(api_key=KEY, models=["gpt-realtime-mini"]) as server:
        with pytest.raises(BridgeError) as failed:
            async with RealtimeBridge(app, realtime_url=server.url("gpt-realtime")).call():
                pass
    assert (failed.value.reason, failed.value.code) == ("model", "model_not_found")
    assert failed.value.message.startswith("The Realtime endpoint does not know the model 'gpt-realtime'")
    assert_hung_up_with(ended, failed.value, connected=True)


async def test_a_rate_limit_on_the_handshake(app: VNSApp, ended: Ended) -> None:
    async with ScriptedRealtimeServer(refuse=429) as server:
        with pytest.raises(BridgeError) as failed:
            async with RealtimeBridge(app, realtime_url=server.url()).call():
                pass
    assert (failed.value.reason, failed.value.status) == ("rate_limit", 429)
    assert failed.value.message.startswith("OpenAI rate limit reached (HTTP 429 from ")
    assert_hung_up_with(ended, failed.value, connected=False)


@pytest.mark.parametrize(
    ("line", "reason", "start"),
    [
        (
            "You hit the limit",
            "rate_limit",
            "OpenAI rate limit reached (error event): Rate limit reached for gpt-realtime",
        ),
        ("Are you busy?", "rate_limit", "OpenAI rate limit reached (failed response): Rate limit reached for tokens"),
        ("Something broken", "openai_error", "The Realtime model reported an error (failed response, server_error)"),
    ],
)
async def test_an_error_mid_call_hangs_up_with_an_error_status(
    bridge: RealtimeBridge, ended: Ended, line: str, reason: str, start: str
) -> None:
    with pytest.raises(BridgeError) as failed:
        async with bridge.call() as call:
            await call.say("Is Ron there?")
            await call.say(line)
    assert failed.value.reason == reason
    assert failed.value.message.startswith(start)
    assert (call.ended, call.end_reason, call.error) == (True, "error", failed.value)
    assert call.turns[-1].ended and call.turns[-1].end_reason == "error"
    assert_hung_up_with(ended, failed.value, connected=True)
    assert ended[-1][1]["lookups"] == 1  # what the call did before the fault reached CallEnd


async def test_the_socket_dropping_mid_call(bridge: RealtimeBridge, ended: Ended) -> None:
    with pytest.raises(BridgeError) as failed:
        async with bridge.call() as call:
            await call.say("drop it")
    assert failed.value.reason == "dropped"
    assert failed.value.message == "The Realtime connection dropped mid-call (no close frame)"
    assert [exchange.kind for exchange in call.exchanges] == ["call_start", "call_end"]
    assert_hung_up_with(ended, failed.value, connected=True)


async def test_an_endpoint_that_cannot_be_reached(app: VNSApp, ended: Ended) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the bridge tries it
    with pytest.raises(BridgeError) as failed:
        async with RealtimeBridge(app, realtime_url=f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime").call():
            pass
    assert failed.value.reason == "unreachable"
    assert failed.value.message.startswith(f"Could not reach the Realtime endpoint ws://127.0.0.1:{port}/v1/realtime:")
    assert_hung_up_with(ended, failed.value, connected=False)


async def test_a_model_that_does_not_finish_in_time(app: VNSApp, server: ScriptedRealtimeServer, ended: Ended) -> None:
    bridge = RealtimeBridge(app, realtime_url=server.url(), response_timeout=0.3)
    with pytest.raises(BridgeError) as failed:
        async with bridge.call() as call:
            await call.say("slow please")
    assert failed.value.reason == "timeout"
    assert failed.value.message == "The Realtime model did not finish its response within 0.3 s"
    assert_hung_up_with(ended, failed.value, connected=True)
    assert call.error is failed.value


async def test_a_session_the_endpoint_refuses(app: VNSApp, ended: Ended) -> None:
    # An endpoint that refuses every session.update, as OpenAI refuses a parameter it does not know.
    script = RealtimeScript()
    async with ScriptedRealtimeServer(script, api_key=KEY) as server:
        original = server._handle

        async def refuse_updates(websocket, conversation, message):  # type: ignore[no-untyped-def]
            event = json.loads(message)
            if event.get("type") == "session.update":
                error = conversation.writer.error("Unknown parameter: 'session.voice_style'.", param="session")
                await websocket.send(json.dumps(error))
                return True
            return await original(websocket, conversation, message)

        server._handle = refuse_updates  # type: ignore[method-assign]
        with pytest.raises(BridgeError) as failed:
            async with RealtimeBridge(app, realtime_url=server.url()).call():
                pass
        assert len(server.connections) == 1
    assert failed.value.reason == "session"
    assert failed.value.message == (
        "The Realtime endpoint refused the session of the CallStart answer: Unknown parameter: 'session.voice_style'."
    )
    assert_hung_up_with(ended, failed.value, connected=True)


@pytest.mark.parametrize(
    ("fault", "status", "heard", "problem"),
    [
        ("401", 401, '"error"', "the tool endpoint answered HTTP 401"),
        ("500", 500, "Internal Server Error", "the tool endpoint answered HTTP 500"),
        ("garbage", 200, "<html><body>Service Unavailable</body></html>", "a 200 that is not JSON"),
    ],
)
async def test_a_tool_endpoint_that_fails_is_passed_on_and_the_call_goes_on(
    ended: Ended, server: ScriptedRealtimeServer, fault: str, status: int, heard: str, problem: str
) -> None:
    app = ToolFaults(build_app(ended), {"lookup_name_or_phone": fault})
    async with RealtimeBridge(app, webhook_token=TOKEN, realtime_url=server.url()).call() as call:
        turn = await call.say("Is Ron there?")
        (tool,) = turn.tool_calls
        assert (tool.ran, tool.status) == (True, status)
        assert heard in (tool.output or "")
        assert problem in (tool.problem or "")
        assert "the model heard" in (tool.problem or "")
        # The model heard the body as it came, and went on with the call.
        assert server.last.function_outputs[tool.call_id] == tool.output
        assert turn.text == "Ron Tanner is on +1 303 555 1212."
        assert (await call.say("Book me for Tuesday")).tool_calls[0].status == 200
    assert ended[-1][0].status == 0


async def test_an_app_that_raises_or_cannot_be_reached(ended: Ended, server: ScriptedRealtimeServer) -> None:
    app = ToolFaults(build_app(ended), {"lookup_name_or_phone": "raise", "book_table": "unreachable"})
    async with RealtimeBridge(app, webhook_token=TOKEN, realtime_url=server.url()).call() as call:
        raised = (await call.say("Is Ron there?")).tool_calls[0]
        unreachable = (await call.say("Book me for Tuesday")).tool_calls[0]
    assert (raised.ran, raised.status, raised.output) == (True, 500, "Internal Server Error")
    assert raised.problem == (
        "the app raised RuntimeError: the database is gone; served, it answers HTTP 500 Internal Server Error, "
        "which the model heard"
    )
    assert (unreachable.ran, unreachable.status) == (False, None)
    assert json.loads(unreachable.output or "")["error"] == "tool_unreachable"
    assert unreachable.problem == "the tool endpoint could not be reached: ConnectError: Connection refused"
    assert server.last.function_outputs == {raised.call_id: raised.output, unreachable.call_id: unreachable.output}
    assert ended[-1][0].status == 0


async def test_arguments_that_are_not_json_are_not_sent_and_the_model_hears_why(
    bridge: RealtimeBridge, server: ScriptedRealtimeServer
) -> None:
    async with bridge.call() as call:
        turn = await call.say("garbled words")
    (tool,) = turn.tool_calls
    assert (tool.ran, tool.arguments, tool.raw_arguments) == (False, None, "{not json")
    assert json.loads(server.last.function_outputs[tool.call_id])["error"] == "invalid_arguments"
    assert [exchange.kind for exchange in call.exchanges] == ["call_start", "call_end"]


async def test_cancelling_the_caller_hangs_up_cleanly(bridge: RealtimeBridge, ended: Ended) -> None:
    # What Ctrl-C does in `vns-sdk chat`: the task is cancelled mid-turn; CallEnd still goes out.
    with pytest.raises(asyncio.CancelledError):
        async with bridge.call() as call:
            waiting = asyncio.ensure_future(call.say("slow please"))
            await asyncio.sleep(0.2)
            waiting.cancel()
            await waiting
    assert (call.ended, call.end_reason) == (True, "caller")
    report, _ = ended[-1]
    assert (report.status, report.log_information) == (0, {"endedBy": "caller"})


async def test_an_exception_in_the_block_still_hangs_up(bridge: RealtimeBridge, ended: Ended) -> None:
    with pytest.raises(ZeroDivisionError):
        async with bridge.call() as call:
            await call.say("Is Ron there?")
            _ = 1 / 0
    assert call.ended and ended[-1][0].log_information == {"endedBy": "caller"}
