"""Whole calls through the bridge against the scripted model: what VNS sends, what the model hears, how calls end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bridge_apps import KEY, TOKEN, AnswerRewriter, Ended, build_app
from support import RON

from vns_sdk import RealtimeEndpoint, VNSApp
from vns_sdk.realtime import (
    AgentResponse,
    AgentSpeech,
    BridgeEvent,
    CallEnded,
    RealtimeBridge,
    ToolCallFinished,
    ToolCallStarted,
)
from vns_sdk.testing import replay
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer


async def test_a_turn_with_two_tool_calls_runs_both_and_the_model_hears_each_reply(
    bridge: RealtimeBridge, server: ScriptedRealtimeServer, ended: Ended
) -> None:
    async with bridge.call(caller_id="3035550123", called_number="7205550100") as call:
        turn = await call.say("Can you do both: find Ron and book Monday?")
        assert [tool.name for tool in turn.tool_calls] == ["lookup_name_or_phone", "book_table"]
        lookup, book = turn.tool_calls
        assert lookup.arguments == {"name": "Ron"} and book.arguments == {"day": "monday", "hour": 19}
        assert (lookup.ran, lookup.status, lookup.problem) == (True, 200, None)
        assert json.loads(lookup.output or "") == RON
        assert json.loads(book.output or "") == {"booked": True, "day": "monday", "hour": 19}
        assert turn.text == "One moment. Ron Tanner is booked for Monday at 7."
        assert turn.statuses == ["completed", "completed", "completed"]
        assert not turn.ended and not call.ended
        # What the model heard is exactly what the tool endpoint answered.
        assert server.last.function_outputs == {lookup.call_id: lookup.output, book.call_id: book.output}
        assert lookup.tool_ms > 0 and lookup.bridge_ms >= 0
    assert [exchange.kind for exchange in call.exchanges] == ["call_start", "tool", "tool", "call_end"]
    report, state = ended[-1]
    assert (report.status, report.error_message, report.log_information) == (0, None, {"endedBy": "caller"})
    assert report.caller_id == "3035550123" and report.called_number == "7205550100"
    assert report.call_connected is not None and report.call_start <= report.call_connected < report.call_end
    assert state["booked"] == "monday 19" and state["lookups"] == 1


async def test_the_tool_request_is_the_one_vns_sends(bridge: RealtimeBridge) -> None:
    async with bridge.call(customer_call_id="CallId-001") as call:
        await call.say("Is Ron there?")
        tool = call.exchanges[1]
        assert tool.url == call.vns_call.tool_request("lookup_name_or_phone", {"name": "Ron"})[0]
        assert tool.request_body == {
            "VoiceElements_InvokeTool": {
                "toolName": "lookup_name_or_phone",
                "sessionGuid": call.session_guid,
                "customerCallId": "CallId-001",
            },
            "name": "Ron",
        }
        assert tool.request_headers["Authorization"].startswith("Bearer ")


async def test_an_adapter_form_puts_the_metadata_in_the_path(ended: Ended, server: ScriptedRealtimeServer) -> None:
    app = build_app(ended, tools_url_adapter="/<<toolname>>/<<sessionguid>>/<<customerCallId>>")
    async with RealtimeBridge(app, realtime_url=server.url()).call(customer_call_id="abc") as call:
        turn = await call.say("Is Ron there?")
    assert call.exchanges[1].path == f"/vns/tools/lookup_name_or_phone/{call.session_guid}/abc"
    assert call.exchanges[1].request_body == {"name": "Ron"}
    assert json.loads(turn.tool_calls[0].output or "") == RON


async def test_the_session_is_the_answers_with_text_output_and_the_turns_are_user_messages(
    bridge: RealtimeBridge, server: ScriptedRealtimeServer
) -> None:
    async with bridge.call() as call:
        await call.say("Is Ron there?")
        answer = call.response.model_dump(mode="json", by_alias=True, exclude_unset=True)
    sent = server.last
    (update,) = sent.sent("session.update")
    assert update["event_id"] == answer["event_id"]
    assert update["session"] == {**answer["session"], "output_modalities": ["text"]}
    assert update["session"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}  # as the app set it
    kinds = [event["type"] for event in sent.events]
    assert kinds == [
        "session.update",
        "conversation.item.create",  # the caller's words
        "response.create",
        "conversation.item.create",  # the function's output
        "response.create",
    ]
    assert sent.events[1]["item"] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Is Ron there?"}],
    }
    assert sent.problems == []


async def test_output_modalities_none_keeps_the_apps_choice(app: VNSApp, server: ScriptedRealtimeServer) -> None:
    bridge = RealtimeBridge(app, realtime_url=server.url(), output_modalities=None)
    async with bridge.call() as call:
        turn = await call.say("Is Ron there?")
    assert "output_modalities" not in server.last.sent("session.update")[0]["session"]
    assert turn.text == "Ron Tanner is on +1 303 555 1212."  # read from the audio transcript


@pytest.mark.parametrize(("line", "status"), [("hold on, stop", "cancelled"), ("a long one", "incomplete")])
async def test_no_tool_runs_from_a_response_that_did_not_complete(
    bridge: RealtimeBridge, server: ScriptedRealtimeServer, ended: Ended, line: str, status: str
) -> None:
    async with bridge.call() as call:
        turn = await call.say(line)
        (skipped,) = turn.tool_calls
        assert (skipped.name, skipped.ran, skipped.output) == ("book_table", False, None)
        assert skipped.skipped == f"the response was {status}"
        assert turn.statuses == [status]
        # The call goes on.
        assert (await call.say("Is Ron there?")).tool_calls[0].ran
    assert [exchange.tool for exchange in call.exchanges if exchange.kind == "tool"] == ["lookup_name_or_phone"]
    assert len(server.last.sent("response.create")) == 3  # nothing asked after the unfinished response
    assert "booked" not in ended[-1][1]


async def test_end_conversation_hangs_up_after_the_goodbye(bridge: RealtimeBridge, ended: Ended) -> None:
    async with bridge.call() as call:
        turn = await call.say("That's all, bye!")
        assert (turn.ended, turn.end_reason, call.ended, call.end_reason) == (True, "agent", True, "agent")
        assert turn.text == "Goodbye!"
        assert turn.tool("end_conversation").arguments == {"user_input": "the caller said bye"}
        with pytest.raises(RuntimeError, match="ended"):
            await call.say("hello?")
    report, state = ended[-1]
    assert (report.status, report.log_information) == (0, {"endedBy": "agent"})
    assert state["vns_ended_by_ai"] is True
    assert [exchange.kind for exchange in call.exchanges].count("call_end") == 1


async def test_max_seconds_ends_the_call_mid_turn(ended: Ended, server: ScriptedRealtimeServer) -> None:
    app = build_app(ended, max_seconds=1)
    async with RealtimeBridge(app, realtime_url=server.url()).call() as call:
        assert call.max_seconds == 1
        turn = await call.say("Anything slow?")
        assert (turn.ended, turn.end_reason, turn.text) == (True, "max_seconds", "")
        assert call.time_left == 0
    report, _ = ended[-1]
    assert (report.status, report.log_information) == (0, {"endedBy": "max_seconds"})


async def test_events_stream_in_order(bridge: RealtimeBridge) -> None:
    events: list[BridgeEvent] = []
    async with bridge.call(on_event=events.append) as call:
        turn = await call.say("Is Ron there?")
    kinds = [type(event).__name__ for event in events]
    assert kinds[0] == "ToolCallStarted" or kinds[0] == "AgentResponse"
    started = kinds.index("ToolCallStarted")
    assert kinds[started : started + 2] == ["ToolCallStarted", "ToolCallFinished"]
    assert isinstance(events[-1], CallEnded) and events[-1].reason == "caller"
    assert events[-1].acknowledgement == {"status": 0, "errorMessage": "Success"}
    words = "".join(event.delta for event in events if isinstance(event, AgentSpeech))
    assert words == turn.text
    responses = [event for event in events if isinstance(event, AgentResponse)]
    assert [response.status for response in responses] == ["completed", "completed"]
    assert sum(response.usage.total_tokens for response in responses) == turn.usage.total_tokens > 0
    assert call.usage.total_tokens == turn.usage.total_tokens and call.usage.responses == 2
    assert turn.events == events[:-1]  # the end comes after the turn's last response
    finished = next(event for event in events if isinstance(event, ToolCallFinished))
    assert finished.call is next(event for event in events if isinstance(event, ToolCallStarted)).call


async def test_a_recorded_call_keeps_the_conversation_and_replays_its_webhooks(
    app: VNSApp, server: ScriptedRealtimeServer, tmp_path: Path
) -> None:
    transcript = tmp_path / "call.jsonl"
    async with RealtimeBridge(app, realtime_url=server.url(), record=transcript).call() as call:
        await call.say("Can you do both: find Ron and book Monday?")
        await call.say("hold on")
        await call.say("bye")
    text = transcript.read_text(encoding="utf-8")
    assert KEY not in text and TOKEN not in text
    lines = [json.loads(line) for line in text.splitlines()]
    said = [(line["kind"], line.get("role") or line.get("tool")) for line in lines]
    assert said == [
        ("call_start", None),
        ("conversation", "caller"),
        ("conversation", "agent"),
        ("tool", "lookup_name_or_phone"),
        ("conversation", "function_call"),
        ("conversation", "agent"),
        ("tool", "book_table"),
        ("conversation", "function_call"),
        ("conversation", "agent"),
        ("conversation", "caller"),
        ("conversation", "agent"),
        ("conversation", "function_call"),
        ("conversation", "caller"),
        ("conversation", "agent"),
        ("tool", "end_conversation"),
        ("conversation", "function_call"),
        ("conversation", "agent"),
        ("call_end", None),
        ("conversation", "end"),
    ]
    function_call = lines[4]
    assert function_call["arguments"] == {"name": "Ron"} and function_call["ran"] is True
    assert json.loads(function_call["output"]) == RON
    assert lines[11]["ran"] is False and lines[11]["skipped"] == "the response was cancelled"
    assert lines[-1] == {**lines[-1], "reason": "agent", "status": 0, "error": None}
    report = replay(transcript, app=app)
    assert report.ok, report.render()
    assert len(report.exchanges) == 5


async def test_without_an_override_the_bridge_connects_where_the_answers_ai_url_says(ended: Ended) -> None:
    async with ScriptedRealtimeServer(standard_script_for_ron(), api_key=KEY, path="/v1/realtime") as server:
        # The app itself is pointed at the scripted model, as it would be at Azure or a gateway.
        endpoint = RealtimeEndpoint.openai(KEY, url=server.url(model=None))
        async with RealtimeBridge(build_app(ended, realtime=endpoint), webhook_token=TOKEN).call() as call:
            assert call.target is not None and call.target.url == server.url()
            assert (await call.say("Is Ron there?")).tool_calls[0].status == 200
    assert server.last.headers["Authorization"] == f"Bearer {KEY}"


async def test_an_app_pointed_at_a_gateway_is_talked_to_through_it_with_its_headers(ended: Ended) -> None:
    gateway_key = "gw-key-for-the-scripted-model"
    script = standard_script_for_ron()
    async with ScriptedRealtimeServer(script, headers={"X-Gateway-Key": gateway_key}, path="/gw/voice") as server:
        endpoint = RealtimeEndpoint.gateway(server.url(model=None), {"X-Gateway-Key": gateway_key}, model_param=None)
        app = build_app(ended, realtime=endpoint, openai_api_key=None)
        async with RealtimeBridge(app, webhook_token=TOKEN, api_key="sk-unused-fallback").call() as call:
            assert call.target is not None and call.target.url == server.url(model=None)
            assert (await call.say("Is Ron there?")).tool_calls[0].status == 200
    assert server.last.headers["X-Gateway-Key"] == gateway_key


async def test_the_answers_key_goes_to_the_endpoint_and_nothing_from_the_environment(
    bridge: RealtimeBridge, server: ScriptedRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-the-environment")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-environment-key-0123456789")
    async with bridge.call() as call:
        await call.say("Is Ron there?")
        assert call.target is not None and not call.target.key_from_environment
    headers = {name.lower(): value for name, value in server.last.headers.items()}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert "openai-organization" not in headers
    assert server.last.path == "/v1/realtime?model=gpt-realtime"


async def test_an_api_key_header_is_sent_as_is_without_a_bearer(ended: Ended, no_openai_environment: None) -> None:
    # The Azure OpenAI form: the answer authenticates with api-key; no Authorization may go with it.
    app = AnswerRewriter(build_app(ended), ai_headers={"api-key": "azure-key-0123456789"})
    async with ScriptedRealtimeServer(standard_script_for_ron(), api_key="azure-key-0123456789") as server:
        bridge = RealtimeBridge(app, webhook_token=TOKEN, realtime_url=server.url())
        async with bridge.call() as call:
            assert (await call.say("Is Ron there?")).tool_calls[0].status == 200
    headers = {name.lower(): value for name, value in server.last.headers.items()}
    assert headers["api-key"] == "azure-key-0123456789" and "authorization" not in headers


async def test_a_gateway_url_gets_the_answers_headers_and_its_own_path(ended: Ended) -> None:
    gateway_headers = {"Authorization": f"Bearer {KEY}", "X-Gateway-Team": "support"}
    app = AnswerRewriter(build_app(ended), ai_headers=gateway_headers)
    async with ScriptedRealtimeServer(
        standard_script_for_ron(), api_key=KEY, headers={"X-Gateway-Team": "support"}, path="/gw/openai"
    ) as server:
        url = f"{server.base_url}/gw/openai?model=gpt-realtime&team=support"
        async with RealtimeBridge(app, webhook_token=TOKEN, realtime_url=url).call() as call:
            turn = await call.say("Is Ron there?")
    assert turn.tool_calls[0].status == 200
    assert server.last.path == "/gw/openai?model=gpt-realtime&team=support"


async def test_without_a_key_in_the_answer_the_bridge_falls_back_to_openai_api_key(
    ended: Ended, no_openai_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyless = AnswerRewriter(build_app(ended), ai_headers={})
    async with ScriptedRealtimeServer(standard_script_for_ron(), api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        async with RealtimeBridge(keyless, webhook_token=TOKEN, realtime_url=server.url()).call() as call:
            assert call.response.voice_elements_instructions.ai_url.headers == {}
            assert call.target is not None and call.target.key_from_environment
            await call.say("Is Ron there?")
        monkeypatch.delenv("OPENAI_API_KEY")
        async with RealtimeBridge(keyless, webhook_token=TOKEN, realtime_url=server.url(), api_key=KEY).call() as call:
            assert (await call.say("Is Ron there?")).tool_calls[0].status == 200
    assert [connection.headers["Authorization"] for connection in server.connections] == [f"Bearer {KEY}"] * 2


def standard_script_for_ron() -> RealtimeScript:
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    return script


async def test_a_shared_lifespan_serves_several_calls(app: VNSApp, server: ScriptedRealtimeServer) -> None:
    async with RealtimeBridge(app, realtime_url=server.url()) as bridge:
        for _ in range(2):
            async with bridge.call() as call:
                await call.say("Is Ron there?")
    assert len(server.connections) == 2 and all(connection.closed for connection in server.connections)
    assert "realtime_url" in repr(bridge)


async def test_an_event_newer_than_the_installed_types_is_still_read(app: VNSApp) -> None:
    # A reason the installed openai types do not list yet: the event fails validation and is read leniently.
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").cancel(reason="caller_left_the_room")
    events: list[BridgeEvent] = []
    async with ScriptedRealtimeServer(script, api_key=KEY) as server:
        bridge = RealtimeBridge(app, realtime_url=server.url())
        async with bridge.call(on_event=events.append) as call:
            turn = await call.say("Is Ron there?")
    assert turn.statuses == ["cancelled"] and not turn.tool_calls[0].ran
    (response,) = [event for event in events if isinstance(event, AgentResponse)]
    assert response.reason == "caller_left_the_room"
