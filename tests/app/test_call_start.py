"""CallStart through the real ASGI app: the answer, the handlers, refusal, fallbacks and outbound context."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from tests.app.conftest import AUTH, OPENAI_KEY, SEED_GUID, AppFactory, client_for, spec, start_call, tools_base
from vns_sdk.app import VNSApp
from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.models import CallEndRequest, CallStartResponse

SEED_INSTRUCTIONS = spec("call_start_response")["session"]["instructions"]


async def test_seed_call_start_answers_the_seed_shape(make_app: AppFactory) -> None:
    app = make_app(instructions=SEED_INSTRUCTIONS)
    async with client_for(app) as http:
        answer = await start_call(http)
    seed = spec("call_start_response")
    assert list(answer)[0] == "VoiceElements_Instructions"
    instructions = answer["VoiceElements_Instructions"]
    assert instructions["aiUrl"] == {
        "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        "headers": {"Authorization": f"Bearer {OPENAI_KEY}"},
    }
    assert instructions["maxSeconds"] == 300
    assert instructions["customerCallId"] is None  # the request's
    assert instructions["defaultToolsUrlAdapter"] is None
    url, headers = tools_base(answer)
    assert url == "https://agent.example.com/vns/tools"
    assert list(headers) == ["Authorization"] and headers["Authorization"].startswith("Bearer v1.")
    assert answer["type"] == "session.update" and answer["event_id"]
    session = answer["session"]
    # Everything but what is the customer's own (key, tools URL) matches the spec's example.
    assert session == seed["session"]
    CallStartResponse.model_validate(answer)


async def test_answer_uses_the_configuration(make_app: AppFactory) -> None:
    app = make_app(
        model="gpt-realtime-mini",
        voice="marin",
        max_seconds=120,
        public_url="https://voice.example.org/",
        prefix="/hooks/",
        tools_url_adapter="/<<toolname>>",
        session={"audio": {"output": {"speed": 1.2}}, "max_output_tokens": 512},
    )
    async with client_for(app) as http:
        answer = await start_call(http, prefix="/hooks")
    instructions = answer["VoiceElements_Instructions"]
    assert instructions["aiUrl"]["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
    assert instructions["maxSeconds"] == 120
    assert instructions["defaultToolsUrlBase"]["url"] == "https://voice.example.org/hooks/tools"
    assert instructions["defaultToolsUrlAdapter"] == "/<<toolname>>"
    session = answer["session"]
    assert session["model"] == "gpt-realtime-mini"
    assert session["audio"]["output"] == {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.2}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["max_output_tokens"] == 512


async def test_session_override_with_another_turn_detection_replaces_it(make_app: AppFactory) -> None:
    app = make_app(session={"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}})
    async with client_for(app) as http:
        answer = await start_call(http)
    assert answer["session"]["audio"]["input"]["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}


async def test_public_url_comes_from_host_and_forwarded_headers_only_when_trusted(make_app: AppFactory) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example.com"}
    body = spec("call_start_request")
    for trust, expected in ((False, "http://internal:8000/vns/tools"), (True, "https://public.example.com/vns/tools")):
        app = make_app(trust_forwarded_headers=trust)
        async with client_for(app, base_url="http://internal:8000") as http:
            response = await http.post("/vns/call-start", json=body, headers=AUTH | forwarded)
        assert tools_base(response.json())[0] == expected
    app = make_app(trust_forwarded_headers=True)
    async with client_for(app, base_url="http://internal:8000") as http:
        rfc = {"Forwarded": 'for=1.2.3.4;proto=https;host="edge.example.net"'}
        response = await http.post("/vns/call-start", json=body, headers=AUTH | rfc)
    assert tools_base(response.json())[0] == "https://edge.example.net/vns/tools"


async def test_handler_tailors_the_call(make_app: AppFactory) -> None:
    app = make_app()
    seen: list[CallContext] = []

    @app.on_call_start
    async def personalize(call: CallContext) -> None:
        seen.append(call)
        assert call.session is not None and call.request is not None
        assert call.time_left is not None and call.time_left > 0
        call.session.instructions = f"{call.session.instructions} The caller is {call.caller_id_name}."
        assert call.session.audio is not None and call.session.audio.output is not None
        call.session.audio.output.voice = "verse"
        call.session.tools = [tool for tool in call.session.tools if tool.name != "end_conversation"]
        call.max_seconds = 90
        call.customer_call_id = "crm-42"
        call.state["tier"] = "gold"

    @app.on_call_start
    def second(call: CallContext) -> None:  # sync handlers run too, in order
        call.state["second"] = call.state["tier"]

    async with client_for(app) as http:
        answer = await start_call(http, callerIdName="John Smith")
        url, headers = tools_base(answer)
        reply = await http.post(
            url, headers=headers, json={"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone"}, "name": "x"}
        )
    assert seen[0].session_guid == SEED_GUID and seen[0].caller_id == "3032639999"
    instructions = answer["VoiceElements_Instructions"]
    assert instructions["maxSeconds"] == 90
    assert instructions["customerCallId"] == "crm-42"
    assert answer["session"]["instructions"].endswith("The caller is John Smith.")
    assert answer["session"]["audio"]["output"]["voice"] == "verse"
    assert [tool["name"] for tool in answer["session"]["tools"]] == ["lookup_name_or_phone"]
    assert reply.status_code == 200
    loaded = await app.store.load_call(SEED_GUID)
    assert loaded is not None
    record, state = loaded
    assert record.customer_call_id == "crm-42" and record.max_seconds == 90
    assert state["tier"] == '"gold"' and state["second"] == '"gold"' and state["lookups"] == "1"


async def test_refusal_answers_403(make_app: AppFactory) -> None:
    app = make_app()

    @app.on_call_start
    async def screen(call: CallContext) -> None:
        call.refuse("This number does not take calls from you.")

    async with client_for(app) as http:
        response = await http.post("/vns/call-start", json=spec("call_start_request"), headers=AUTH)
    assert response.status_code == 403
    assert response.json() == {"error": "call_refused", "message": "This number does not take calls from you."}
    assert await app.store.load_call(SEED_GUID) is None


def _default_form(answer: dict[str, Any]) -> None:
    assert answer["VoiceElements_Instructions"]["maxSeconds"] == 300
    assert answer["VoiceElements_Instructions"]["customerCallId"] is None
    assert answer["session"]["instructions"] == "You are a friendly agent."
    assert [tool["name"] for tool in answer["session"]["tools"]] == ["end_conversation", "lookup_name_or_phone"]


async def test_failing_handler_falls_back_to_the_default_form(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.on_call_start
    async def broken(call: CallContext) -> None:
        assert call.session is not None
        call.session.instructions = "half-done"
        call.max_seconds = 5
        call.state["partial"] = True
        raise RuntimeError("crm is down")

    with caplog.at_level(logging.INFO, logger="vns_sdk.app"):
        async with client_for(app) as http:
            answer = await start_call(http)
    _default_form(answer)
    loaded = await app.store.load_call(SEED_GUID)
    assert loaded is not None and loaded[1] == {}
    assert any("handler failed" in record.getMessage() for record in caplog.records)
    assert any(getattr(record, "vns_outcome", None) == "handler_error" for record in caplog.records)


async def test_unanswerable_handler_changes_fall_back(make_app: AppFactory) -> None:
    app = make_app()

    @app.on_call_start
    async def bad_values(call: CallContext) -> None:
        call.max_seconds = -1
        call.state["handle"] = object()

    async with client_for(app) as http:
        answer = await start_call(http)
    _default_form(answer)


async def test_slow_handler_falls_back_within_the_budget(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(call_start_timeout=0.05)
    cancelled = asyncio.Event()

    @app.on_call_start
    async def slow(call: CallContext) -> None:
        assert call.session is not None
        call.session.instructions = "never sent"
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with caplog.at_level(logging.INFO, logger="vns_sdk.app"):
        async with client_for(app) as http:
            answer = await start_call(http)
    _default_form(answer)
    assert cancelled.is_set()
    assert any(getattr(record, "vns_outcome", None) == "handler_timeout" for record in caplog.records)


def test_handler_signatures_are_checked_at_registration(app: VNSApp) -> None:
    async def extra(call: CallContext, caller: str) -> None: ...

    async def report_on_start(report: CallEndRequest) -> None: ...

    async def twice(call: CallContext, other: CallContext) -> None: ...

    for handler in (extra, report_on_start, twice):
        with pytest.raises(InvalidToolSignature):
            app.on_call_start(handler)

    async def none() -> None: ...

    async def defaulted(call: CallContext, verbose: bool = False) -> None: ...

    assert app.on_call_start(none) is none
    assert app.on_call_start(defaulted) is defaulted


async def test_outbound_call_start_finds_the_dial_context(make_app: AppFactory) -> None:
    app = make_app()
    await app.store.put_dial_context("abc123", {"appointment": '"Tuesday 10:00"', "patient": '"Ann"'}, 60)
    seen: dict[str, Any] = {}

    @app.on_call_start
    def check(call: CallContext) -> None:
        seen.update(outbound=call.outbound, state=call.state.to_dict(), ccid=call.customer_call_id)

    async with client_for(app) as http:
        answer = await start_call(http, outboundTriggered=True, customerCallId="abc123")
    assert seen == {"outbound": True, "state": {"appointment": "Tuesday 10:00", "patient": "Ann"}, "ccid": "abc123"}
    assert answer["VoiceElements_Instructions"]["customerCallId"] == "abc123"
    assert await app.store.pop_dial_context("abc123") is None  # taken once


@pytest.mark.parametrize("key", [None, ""], ids=["unset", "empty"])
async def test_without_openai_key_the_answer_has_no_ai_header_and_warns_once(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, key: str | None
) -> None:
    app = make_app(openai_api_key=key)
    with caplog.at_level(logging.WARNING, logger="vns_sdk.app"):
        async with client_for(app) as http:
            first = await start_call(http)
            await start_call(http, guid="another-guid")
    assert first["VoiceElements_Instructions"]["aiUrl"]["headers"] == {}
    warnings = [record for record in caplog.records if "OpenAI API key" in record.getMessage()]
    assert len(warnings) == 1


async def test_session_tools_are_offered_besides_the_registered_ones(make_app: AppFactory) -> None:
    mcp = {"type": "mcp", "server_label": "crm", "server_url": "https://mcp.example.com/sse"}
    app = make_app(session={"tools": [mcp], "tool_choice": "required"})
    async with client_for(app) as http:
        answer = await start_call(http)
    tools = answer["session"]["tools"]
    assert tools[0] == mcp
    assert [tool["name"] for tool in tools[1:]] == ["end_conversation", "lookup_name_or_phone"]
    assert answer["session"]["tool_choice"] == "required"


async def test_session_override_as_a_model(make_app: AppFactory) -> None:
    from vns_sdk.models import RealtimeSession

    app = make_app(session=RealtimeSession(instructions="From the model.", max_output_tokens=300))
    async with client_for(app) as http:
        answer = await start_call(http)
    assert answer["session"]["instructions"] == "From the model."
    assert answer["session"]["max_output_tokens"] == 300
    assert answer["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}


async def test_raw_asgi_without_a_host_header_and_a_client_that_leaves(app: VNSApp) -> None:
    body = json.dumps(spec("call_start_request")).encode()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    def scope(path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "method": "POST",
            "scheme": "https",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [(b"authorization", AUTH["Authorization"].encode())],
            "server": ("10.0.0.5", 8443),
        }

    messages = iter(
        [{"type": "http.request", "body": body[:10], "more_body": True}, {"type": "http.request", "body": body[10:]}]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    await app(scope("/vns/call-start"), receive, send)
    answer = json.loads(sent[1]["body"])
    assert tools_base(answer)[0] == "https://10.0.0.5:8443/vns/tools"

    sent.clear()

    async def leave() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    await app(scope("/vns/call-start"), leave, send)
    tool_scope = scope("/vns/tools/lookup_name_or_phone")
    tool_scope["headers"] = [(b"authorization", tools_base(answer)[1]["Authorization"].encode())]
    await app(tool_scope, leave, send)
    assert sent == []  # nobody to answer
