"""`ScriptedRealtimeServer`: the handshake it checks, the GA events it sends, the client events it refuses.

These tests talk to it with a plain WebSocket client, so they hold whatever client uses it; every server
event is validated (strictly, not merely constructed) with the ``openai`` package's server event types.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai.types.realtime import RealtimeServerEvent
from pydantic import TypeAdapter
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus

from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

KEY = "sk-test-scripted-0123456789"
SERVER_EVENTS: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)


def script() -> RealtimeScript:
    script = RealtimeScript()
    script.when("Ron").say("Let me check.").call("lookup_name_or_phone", name="Ron").say("Ron Tanner it is.")
    script.when("hold on").call("lookup_name_or_phone", name="Ron").cancel()
    script.when("long").say("A very long").incomplete()
    script.when("broken").fail("The server had an error.")
    script.when("limit").error("Rate limit reached.", code="rate_limit_exceeded", type="rate_limit_exceeded")
    script.when("drop").drop()
    return script


@pytest.fixture
async def server() -> AsyncIterator[ScriptedRealtimeServer]:
    async with ScriptedRealtimeServer(script(), api_key=KEY, models=["gpt-realtime"]) as running:
        yield running


async def receive(ws: ClientConnection, until: str) -> list[dict[str, Any]]:
    """Server events up to and including the first of type `until`, each validated with openai's types."""
    events = []
    while True:
        event = json.loads(await ws.recv())
        parsed = SERVER_EVENTS.validate_python(event)
        assert parsed.type == event["type"]
        events.append(event)
        if event["type"] == until:
            return events


async def open_session(server: ScriptedRealtimeServer, modalities: list[str]) -> ClientConnection:
    ws = await connect(server.url(), additional_headers={"Authorization": f"Bearer {KEY}"})
    await receive(ws, "session.created")
    update = {"type": "session.update", "session": {"type": "realtime", "output_modalities": modalities}}
    await ws.send(json.dumps(update))
    updated = await receive(ws, "session.updated")
    assert updated[-1]["session"]["output_modalities"] == modalities
    return ws


async def say(ws: ClientConnection, text: str) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
    await receive(ws, "conversation.item.done")
    await ws.send(json.dumps({"type": "response.create"}))


async def test_a_turn_with_a_function_call_streams_the_ga_events(server: ScriptedRealtimeServer) -> None:
    async with await open_session(server, ["text"]) as ws:
        await say(ws, "Can you look up Ron?")
        first = await receive(ws, "response.done")
        types = [event["type"] for event in first]
        assert types[0] == "response.created"
        assert "response.output_text.delta" in types and "response.function_call_arguments.done" in types
        assert "".join(e["delta"] for e in first if e["type"] == "response.output_text.delta") == "Let me check."
        done = first[-1]["response"]
        call = done["output"][1]
        assert (done["status"], call["type"], call["name"], json.loads(call["arguments"])) == (
            "completed",
            "function_call",
            "lookup_name_or_phone",
            {"name": "Ron"},
        )
        assert done["usage"]["total_tokens"] == done["usage"]["input_tokens"] + done["usage"]["output_tokens"] > 0
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"contactFound": true}'}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": output}))
        await receive(ws, "conversation.item.done")
        await ws.send(json.dumps({"type": "response.create"}))
        second = await receive(ws, "response.done")
        assert second[-1]["response"]["output"][0]["content"] == [{"type": "output_text", "text": "Ron Tanner it is."}]
        await receive(ws, "rate_limits.updated")
    record = server.last
    assert record.caller_lines == ["Can you look up Ron?"]
    assert record.function_outputs == {call["call_id"]: '{"contactFound": true}'}
    assert record.problems == []
    assert record.model == "gpt-realtime"
    assert record.headers["Authorization"] == f"Bearer {KEY}"


async def test_an_audio_session_streams_a_transcript(server: ScriptedRealtimeServer) -> None:
    async with await open_session(server, ["audio"]) as ws:
        await say(ws, "Ron please")
        events = await receive(ws, "response.done")
    types = {event["type"] for event in events}
    assert "response.output_audio_transcript.delta" in types and "response.output_text.delta" not in types
    assert events[-1]["response"]["output"][0]["content"][0]["transcript"] == "Let me check."


@pytest.mark.parametrize(
    ("line", "status", "details"),
    [
        ("hold on", "cancelled", {"type": "cancelled", "reason": "turn_detected"}),
        ("too long", "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}),
        (
            "broken",
            "failed",
            {"type": "failed", "error": {"type": "server_error", "code": None, "message": "The server had an error."}},
        ),
    ],
)
async def test_responses_that_do_not_complete(
    server: ScriptedRealtimeServer, line: str, status: str, details: dict[str, Any]
) -> None:
    async with await open_session(server, ["text"]) as ws:
        await say(ws, line)
        events = await receive(ws, "response.done")
    response = events[-1]["response"]
    assert (response["status"], response["status_details"]) == (status, details)
    if status == "cancelled":
        # As OpenAI does, the function call's arguments still come, and the item is marked incomplete.
        assert any(event["type"] == "response.function_call_arguments.done" for event in events)
        assert response["output"][0]["status"] == "incomplete"


async def test_an_error_event_instead_of_a_response_and_a_dropped_connection(server: ScriptedRealtimeServer) -> None:
    async with await open_session(server, ["text"]) as ws:
        await say(ws, "limit")
        error = (await receive(ws, "error"))[-1]["error"]
        assert (error["type"], error["code"], error["message"]) == (
            "rate_limit_exceeded",
            "rate_limit_exceeded",
            "Rate limit reached.",
        )
        await say(ws, "drop it")
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()
        assert closed.value.rcvd is None  # no close frame: the socket just went away


async def test_a_line_no_rule_matches_is_said_back_and_noted(server: ScriptedRealtimeServer) -> None:
    async with await open_session(server, ["text"]) as ws:
        await say(ws, "something else")
        events = await receive(ws, "response.done")
    assert "no rule matches 'something else'" in events[-1]["response"]["output"][0]["content"][0]["text"]
    assert server.last.problems == ["no rule of the script matches the caller's line 'something else'"]


async def test_client_events_the_protocol_refuses_get_an_error_event(server: ScriptedRealtimeServer) -> None:
    async with await open_session(server, ["text"]) as ws:
        await ws.send(json.dumps({"type": "session.update", "event_id": "evt_1", "session": {"instructions": "x"}}))
        error = (await receive(ws, "error"))[-1]["error"]
        assert error["event_id"] == "evt_1"
        assert error["message"] == "Invalid session.update event: session.type: Field required."
        output = {"type": "function_call_output", "call_id": "call_nope", "output": "{}"}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": output}))
        error = (await receive(ws, "error"))[-1]["error"]
        assert error["message"] == "Tool call ID 'call_nope' not found in conversation."
        await ws.send("not json")
        assert (await receive(ws, "error"))[-1]["error"]["code"] == "invalid_json"
    assert len(server.last.problems) == 3


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Authorization": "Bearer sk-wrong-key-000000"}, "Incorrect API key provided."),
        ({}, "Missing bearer or basic authentication in header."),
    ],
)
async def test_a_wrong_or_missing_key_is_refused_on_the_handshake(
    server: ScriptedRealtimeServer, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url(), additional_headers=headers)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"]["message"] == message
    assert KEY not in refused.value.response.body.decode()


async def test_an_api_key_header_is_accepted_and_required_headers_are_checked() -> None:
    async with ScriptedRealtimeServer(api_key=KEY, headers={"OpenAI-Project": "proj_1"}) as server:
        with pytest.raises(InvalidStatus):
            await connect(server.url(), additional_headers={"api-key": KEY})
        async with await connect(server.url(), additional_headers={"api-key": KEY, "OpenAI-Project": "proj_1"}) as ws:
            assert (await receive(ws, "session.created"))[-1]["session"]["model"] == "gpt-realtime"


async def test_refusals_a_wrong_path_and_an_unknown_model() -> None:
    async with ScriptedRealtimeServer(refuse=429) as server:
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.url())
        assert refused.value.response.status_code == 429
        assert json.loads(refused.value.response.body)["error"]["code"] == "rate_limit_exceeded"
    async with ScriptedRealtimeServer(models=["gpt-realtime"]) as server:
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.base_url + "/v1/elsewhere")
        assert refused.value.response.status_code == 404
        async with await connect(server.url("gpt-imaginary")) as ws:
            error = (await receive(ws, "error"))[-1]["error"]
            assert error["code"] == "model_not_found"
            assert "gpt-imaginary" in error["message"]
            with pytest.raises(ConnectionClosed):
                await ws.recv()


def test_it_runs_in_a_background_thread_for_sync_code() -> None:
    from websockets.sync.client import connect as sync_connect

    server = ScriptedRealtimeServer()
    assert "not started" in repr(server)
    with pytest.raises(RuntimeError, match="not running"):
        server.url()
    with server, sync_connect(server.url()) as ws:
        assert json.loads(ws.recv())["type"] == "session.created"
        assert f"{server.base_url}, 1 connections" in repr(server)
    assert server.last.closed
    assert "stopped" in repr(server)
    assert server.url().startswith("ws://127.0.0.1:")  # still named in messages after it stopped
