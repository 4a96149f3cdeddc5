"""VNSSimulator: whole calls against a VNSApp and against a hand-written app that gets things wrong."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from harness_apps import OPENAI_KEY, TOOL_TOKEN, WEBHOOK_TOKEN, FakeVNSApp, build_lookup_app
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse

from vns_sdk import CallContext, VNSApp
from vns_sdk.exceptions import ConfigurationError, VNSError
from vns_sdk.models import ToolsUrlAdapter
from vns_sdk.testing import SimulationError, VNSSimulator, assert_tool_reply, format_exchanges


def fake_simulator(app: Any, **options: Any) -> VNSSimulator:
    return VNSSimulator(app, prefix="/hooks", webhook_token=WEBHOOK_TOKEN, **options)


# -- a whole call ----------------------------------------------------------------------------------------


def test_a_call_runs_call_start_tools_and_call_end(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call(caller_id="3032639999", caller_id_name="John Smith") as call:
        assert call.tools.keys() == {"end_conversation", "lookup_name_or_phone", "whoami"}
        assert call.instructions and "looks up" in call.instructions
        assert call.max_seconds == 300
        reply = call.invoke("lookup_name_or_phone", name="Ron")
        assert reply == {
            "matchType": "name",
            "contactFound": True,
            "contactName": "Ron Tanner",
            "phoneNumber": "+13035551212",
        }
        assert call.invoke("lookup_name_or_phone", phoneNumber="+17205550100")["contactName"] == "Jane Doe"
        # The state lives from CallStart through every tool call.
        assert call.invoke("whoami") == {
            "callerId": "3032639999",
            "outbound": False,
            "customerCallId": None,
            "lookups": 2,
        }
    assert call.ended
    assert call.end_response == {"status": 0, "errorMessage": "Success"}
    assert [exchange.kind for exchange in call.exchanges] == ["call_start", "tool", "tool", "tool", "call_end"]
    assert all(exchange.status == 200 for exchange in call.exchanges)


def test_call_start_carries_realistic_values(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        request = call.request
    assert set(request) == {
        "sessionGuid",
        "calledNumber",
        "callerId",
        "callerIdName",
        "outboundTriggered",
        "softwareVersion",
        "callStart",
        "customerCallId",
    }
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", request["sessionGuid"])
    assert re.fullmatch(r"\d{10}", request["callerId"]) and re.fullmatch(r"\d{10}", request["calledNumber"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", request["callStart"])
    assert request["outboundTriggered"] is False and request["customerCallId"] is None
    assert request["callerIdName"]


def test_call_end_reports_dotnet_timings_in_order(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
        call.end(status=0, call_referred_out=True, transfers=[{"to": "+13035550199"}])
    report = call.exchanges[-1].request_body
    stamps = [report["callStart"], report["callConnected"], report["callEnd"]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", stamp) for stamp in stamps)
    assert stamps == sorted(stamps)
    assert report["callReferredOut"] is True and report["transfers"] == [{"to": "+13035550199"}]
    assert report["sessionGuid"] == call.session_guid


def test_leaving_the_block_after_a_failure_still_ends_the_call(fake_app: FakeVNSApp) -> None:
    with fake_simulator(fake_app) as vns, pytest.raises(RuntimeError, match="boom"), vns.call():
        raise RuntimeError("boom")
    assert len(fake_app.call_ends) == 1


def test_outbound_triggered_call(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call(outbound=True, customer_call_id="order-42") as call:
        assert call.request["outboundTriggered"] is True
        assert call.customer_call_id == "order-42"
        assert call.invoke("whoami")["outbound"] is True
        assert call.invoke("whoami")["customerCallId"] == "order-42"
    report = call.exchanges[-1].request_body
    assert report["outboundTriggered"] is True and report["customerCallId"] == "order-42"


async def test_async_api(lookup_app: VNSApp) -> None:
    async with VNSSimulator(lookup_app) as vns:
        async with vns.acall(caller_id="7205551212") as call:
            reply = await call.invoke("lookup_name_or_phone", name="Jane")
            assert reply["phoneNumber"] == "+17205550100"
            assert (await call.invoke("whoami"))["callerId"] == "7205551212"
        async with vns.acall(outbound=True, customer_call_id="c-1") as second:
            assert (await second.invoke("whoami"))["outbound"] is True
    assert call.ended and second.ended
    assert [e.kind for e in vns.exchanges].count("call_start") == 2
    assert len(vns.exchanges) == 7


async def test_async_call_without_entering_the_simulator(lookup_app: VNSApp) -> None:
    async with VNSSimulator(lookup_app).acall() as call:
        await call.assert_reply("lookup_name_or_phone", name="Ron", expect={"contactFound": True}, partial=True)
        await call.end()
    assert call.end_response == {"status": 0, "errorMessage": "Success"}


def test_assert_tool_reply_returns_the_reply_or_says_what_differs(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        reply = assert_tool_reply(
            call, "lookup_name_or_phone", {"name": "Ron"}, expect={"contactFound": True}, partial=True
        )
        assert reply["contactName"] == "Ron Tanner"
        with pytest.raises(SimulationError) as caught:
            assert_tool_reply(
                call, "lookup_name_or_phone", {"name": "Ron"}, expect={"contactName": "Ronald"}, partial=True
            )
    assert str(caught.value).startswith(
        'lookup_name_or_phone({"name": "Ron"}) did not partly match the reply expected:\n'
        '  - contactName: expected "Ronald", got "Ron Tanner"'
    )


def test_model_event_is_what_the_model_receives(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        reply = call.invoke("lookup_name_or_phone", name="Ron")
        event = call.model_event(reply, call_id="call_abc")
    assert event == {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": "call_abc", "output": json.dumps(reply)},
    }
    assert json.loads(event["item"]["output"]) == reply
    assert call.model_event({})["item"]["call_id"].startswith("call_")


def test_lifespan_runs_around_the_calls() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"ready": True}
        events.append("shutdown")

    fake = FakeVNSApp()
    fake.asgi.router.lifespan_context = lifespan
    with fake_simulator(fake) as vns:
        with vns.call():
            assert events == ["startup"]
        with vns.call():
            pass
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_exchanges_print_readably(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call(caller_id="3032639999", caller_id_name="John Smith") as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    text = format_exchanges(call.exchanges)
    assert text == vns.format_exchanges() == call.format_exchanges()
    assert 'inbound call from 3032639999 "John Smith"' in text
    assert "tools: end_conversation, lookup_name_or_phone, whoami" in text
    assert 'lookup_name_or_phone(name="Ron")' in text
    assert '-> {"matchType": "name", "contactFound": true' in text
    assert "CallEnd   POST /vns/call-end  -> 200" in text
    assert OPENAI_KEY not in text


# -- credentials -----------------------------------------------------------------------------------------


def test_webhook_token_comes_from_the_app_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeVNSApp()
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", f"{WEBHOOK_TOKEN},older-token")
    with VNSSimulator(fake, prefix="/hooks") as vns, vns.call() as call:
        assert call.exchanges[0].request_headers["Authorization"] == f"Bearer {WEBHOOK_TOKEN}"
    app = build_lookup_app(webhook_token=["rotated-token-abcdef", "old-token-abcdef"])
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN")
    with VNSSimulator(app) as vns, vns.call() as call:
        assert call.exchanges[0].request_headers["Authorization"] == "Bearer rotated-token-abcdef"


def test_a_custom_webhook_header_carries_the_bare_token() -> None:
    app = build_lookup_app(webhook_header="X-VNS-Token")
    with VNSSimulator(app) as vns, vns.call() as call:
        assert call.exchanges[0].request_headers == {"X-VNS-Token": WEBHOOK_TOKEN, "content-type": "application/json"}


def test_a_wrong_webhook_token_fails_with_the_answer(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app, webhook_token="wrong") as vns, pytest.raises(SimulationError) as caught, vns.call():
        pass
    assert caught.value.status == 401
    assert "CallStart (POST /vns/call-start) was answered with HTTP 401" in str(caught.value)


def test_no_token_at_all_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN", raising=False)
    with (
        VNSSimulator(FakeVNSApp(), prefix="/hooks") as vns,
        pytest.raises(SimulationError, match="webhook_token="),
        vns.call(),
    ):
        pass


def test_tool_calls_carry_the_headers_the_app_issued(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        issued = call.response.voice_elements_instructions.default_tools_url_base.headers
        assert call.invoke_raw("whoami").status_code == 200
        assert call.exchanges[-1].request_headers["Authorization"] == issued["Authorization"]
        refused = call.invoke_raw("whoami", headers={"Authorization": "Bearer forged"})
        assert refused.status_code == 401
        assert call.invoke_raw("whoami", headers={"Authorization": None}).status_code == 401


def test_simulator_needs_an_app_or_a_url() -> None:
    with pytest.raises(VNSError, match="either an app"):
        VNSSimulator()


def test_an_invalid_setting_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    monkeypatch.setenv("VNS_MAX_SECONDS", "five minutes")
    with pytest.raises(ConfigurationError, match=r"invalid VNS setting in the environment: max_seconds: ") as caught:
        VNSSimulator(FakeVNSApp(), prefix="/hooks")
    assert WEBHOOK_TOKEN not in str(caught.value)


def test_call_start_fields_vns_cannot_send_are_refused_before_the_call(lookup_app: VNSApp) -> None:
    with (
        VNSSimulator(lookup_app) as vns,
        pytest.raises(ConfigurationError, match=r"caller_id: ") as caught,
        vns.call(caller_id=3032639999),  # type: ignore[arg-type]
    ):
        pass
    assert "not ones VNS sends" in str(caught.value)
    assert vns.exchanges == []


# -- what the simulator catches --------------------------------------------------------------------------


def test_catches_a_wrong_call_start_shape(fake_app: FakeVNSApp) -> None:
    del fake_app.answer["VoiceElements_Instructions"]["aiUrl"]
    fake_app.answer["VoiceElements_Instructions"]["maxSeconds"] = "five minutes"
    fake_app.answer["VoiceElements_Instructions"]["defaultToolsUrlAdapter"] = "/<<tool>>"
    fake_app.answer["type"] = "session.updated"
    fake_app.answer["session"]["tools"][0]["parameters"] = {"type": "object", "properties": {"name": {"type": "text"}}}
    with fake_simulator(fake_app) as vns, pytest.raises(SimulationError) as caught, vns.call():
        pass
    message = str(caught.value)
    assert message.startswith("The CallStart answer is not one VNS can use:")
    assert "VoiceElements_Instructions.aiUrl: Field required" in message
    assert "VoiceElements_Instructions.maxSeconds: Input should be a valid integer" in message
    assert "VoiceElements_Instructions.defaultToolsUrlAdapter: Value error, unknown placeholder <<tool>>" in message
    assert "type: Input should be 'session.update'" in message
    assert isinstance(caught.value, AssertionError)


def test_catches_call_start_values_vns_or_openai_cannot_use(fake_app: FakeVNSApp) -> None:
    instructions = fake_app.answer["VoiceElements_Instructions"]
    instructions["aiUrl"]["url"] = "https://api.openai.com/v1/realtime"
    instructions["defaultToolsUrlBase"]["url"] = "/hooks/tools"
    tools = fake_app.tools()
    tools.append(
        {"type": "function", "name": "broken", "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}
    )
    tools.append({"type": "function", "name": "listy", "parameters": {"type": "array"}})
    tools.append(dict(tools[0]))
    with fake_simulator(fake_app) as vns, pytest.raises(SimulationError) as caught, vns.call():
        pass
    message = str(caught.value)
    for expected in (
        "aiUrl.url must be a wss:// URL, got 'https://api.openai.com/v1/realtime'",
        "defaultToolsUrlBase.url must be an absolute http(s) URL, got '/hooks/tools'",
        "session.tools[1] (broken): parameters is not a valid JSON Schema at properties/a/type: 5 is not valid",
        'session.tools[2] (listy): parameters must be a JSON Schema of "type": "object", got \'array\'',
        "session.tools[3] (lookup_name_or_phone): two tools are named 'lookup_name_or_phone'",
    ):
        assert expected in message


def test_catches_a_session_model_that_is_not_the_one_opened(fake_app: FakeVNSApp) -> None:
    fake_app.answer["session"]["model"] = "gpt-realtime-mini"
    with (
        fake_simulator(fake_app) as vns,
        pytest.raises(SimulationError, match="opens model 'gpt-realtime'"),
        vns.call(),
    ):
        pass


def test_catches_a_call_start_that_is_not_json() -> None:
    app = Starlette()
    app.add_route("/vns/call-start", lambda request: PlainTextResponse("hello"), methods=["POST"])
    with (
        VNSSimulator(app, webhook_token="t") as vns,
        pytest.raises(SimulationError, match="the body is not JSON"),
        vns.call(),
    ):
        pass


def test_catches_a_missing_tool(fake_app: FakeVNSApp) -> None:
    with fake_simulator(fake_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("lookup_customer", name="Ron")
    assert str(caught.value) == (
        "The session offers no tool named 'lookup_customer'; the model can only call: lookup_name_or_phone."
    )


def test_catches_arguments_the_schema_does_not_declare(fake_app: FakeVNSApp) -> None:
    # The handler was written for `phone`; the schema the model sees says `phoneNumber`.
    fake_app.handlers["lookup_name_or_phone"] = lambda args: {"contactFound": args["phone"] == "+13035551212"}
    with fake_simulator(fake_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("lookup_name_or_phone", phone="+13035551212")
    message = str(caught.value)
    assert "The model could not call lookup_name_or_phone with these arguments" in message
    assert "'phone' is not a parameter the schema declares (declared: name, phoneNumber)" in message
    assert fake_app.received == []  # nothing was sent


def test_catches_arguments_of_the_wrong_type(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("lookup_name_or_phone", name=42)
    assert "name: 42 is not of type 'string'" in str(caught.value)


def test_catches_a_schema_that_no_longer_matches_its_handler() -> None:
    app = build_lookup_app()

    @app.tool
    async def book(count: int) -> dict[str, int]:
        """Books seats.

        Args:
            count: How many seats.
        """
        return {"booked": count}

    # Someone edits the declared schema by hand; the function still wants an integer.
    app.tools["book"].parameters["properties"]["count"] = {"type": "string"}
    with VNSSimulator(app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("book", count="two")
    message = str(caught.value)
    assert "its handler rejected arguments that the tool's declared schema accepts" in message
    assert '"error": "invalid_arguments"' in message


def test_catches_a_tool_offered_but_not_served() -> None:
    extra = {"type": "function", "name": "transfer", "parameters": {"type": "object", "properties": {}}}
    app = build_lookup_app(session={"tools": [extra]})
    with VNSSimulator(app) as vns, vns.call() as call:
        assert "transfer" in call.tools
        with pytest.raises(SimulationError, match="offered this tool at CallStart but does not know it"):
            call.invoke("transfer")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (PlainTextResponse("Ron Tanner"), "but the body is not JSON (text/plain"),
        (JSONResponse(["Ron Tanner"]), "but the body is JSON but not an object (list)"),
        (PlainTextResponse("Internal Server Error", status_code=500), "was answered with HTTP 500"),
    ],
)
def test_catches_a_reply_the_model_cannot_hear(fake_app: FakeVNSApp, reply: Any, expected: str) -> None:
    fake_app.handlers["lookup_name_or_phone"] = lambda args: reply
    with fake_simulator(fake_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("lookup_name_or_phone", name="Ron")
    assert expected in str(caught.value)
    assert 'lookup_name_or_phone({"name": "Ron"}) -> POST /hooks/tools' in str(caught.value)


def test_catches_an_adapter_the_tools_route_does_not_read(fake_app: FakeVNSApp) -> None:
    # The answer promises the tool name in the path, but the tools route still reads the body wrapper.
    fake_app.answer["VoiceElements_Instructions"]["defaultToolsUrlAdapter"] = "/<<toolname>>"
    with fake_simulator(fake_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("lookup_name_or_phone", name="Ron")
    assert "POST /hooks/tools/lookup_name_or_phone was answered with HTTP 404" in str(caught.value)


@pytest.mark.parametrize("adapter", [None, *ToolsUrlAdapter.FORMS])
def test_tool_urls_are_built_as_vns_builds_them(fake_app: FakeVNSApp, adapter: str | None) -> None:
    fake_app.set_adapter(adapter)
    with fake_simulator(fake_app) as vns, vns.call() as call:
        assert call.invoke("lookup_name_or_phone", name="Ron") == {"contactFound": True}
        guid = call.session_guid
    path, body, meta = fake_app.received[0]
    if adapter is None:
        assert path == "/hooks/tools"
        assert meta == {"toolName": "lookup_name_or_phone", "sessionGuid": guid, "customerCallId": "CallId-001"}
    else:
        expected = adapter.replace("<<toolname>>", "lookup_name_or_phone").replace("<<sessionguid>>", guid)
        assert path == "/hooks/tools" + expected.replace("<<customerCallId>>", "CallId-001")
        assert meta["toolName"] == "lookup_name_or_phone"
    assert body == {"name": "Ron"}


@pytest.mark.parametrize("adapter", ToolsUrlAdapter.FORMS)
def test_every_adapter_form_reaches_a_vnsapp(adapter: str) -> None:
    app = build_lookup_app(tools_url_adapter=adapter)
    with VNSSimulator(app) as vns, vns.call(outbound=True, customer_call_id="order 42") as call:
        assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"] is True
        assert call.invoke("whoami")["customerCallId"] == "order 42"
    assert call.exchanges[1].path.startswith("/vns/tools")


@pytest.mark.parametrize("adapter", [form for form in ToolsUrlAdapter.FORMS if "customerCallId" in form])
def test_a_customer_call_id_with_reserved_characters_reaches_the_tool(adapter: str) -> None:
    # VNS percent-encodes the customerCallId into the tools URL; a "/" in it must not split the path.
    app = build_lookup_app(tools_url_adapter=adapter)
    with VNSSimulator(app) as vns, vns.call(outbound=True, customer_call_id="orders/42?x=1&y=%") as call:
        assert call.invoke("whoami")["customerCallId"] == "orders/42?x=1&y=%"
        assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"] is True


def test_catches_a_call_end_that_is_not_acknowledged(fake_app: FakeVNSApp) -> None:
    fake_app.call_end_answer = {"status": 3, "errorMessage": "Unknown session"}
    with fake_simulator(fake_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.end()
    assert "but status 3 (Unknown session)" in str(caught.value)


def test_calls_cannot_be_used_after_they_end(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        call.end()
        with pytest.raises(SimulationError, match="the call has already ended"):
            call.invoke("whoami")


def test_validation_can_be_turned_off_to_drive_a_broken_app(fake_app: FakeVNSApp) -> None:
    fake_app.answer["session"]["model"] = "gpt-realtime-mini"
    with fake_simulator(fake_app, validate=False) as vns, vns.call() as call:
        assert call.invoke("lookup_name_or_phone", anything="goes") == {"contactFound": False}


def test_a_failure_message_shows_no_key_or_token(fake_app: FakeVNSApp) -> None:
    fake_app.answer["session"]["model"] = "gpt-realtime-mini"
    with fake_simulator(fake_app) as vns, pytest.raises(SimulationError) as caught, vns.call():
        pass
    message = str(caught.value)
    assert '"aiUrl": {"url": "wss://api.openai.com/v1/realtime?model=gpt-realtime"' in message
    assert OPENAI_KEY not in message and TOOL_TOKEN not in message
    assert '"headers": {"Authorization": "Bearer <redacted>"}' in message
    assert OPENAI_KEY not in str(caught.value.body) and OPENAI_KEY not in vns.format_exchanges()


def test_the_harness_reports_secrets_nowhere(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call, pytest.raises(SimulationError) as caught:
        call.invoke("nope")
    assert OPENAI_KEY not in str(caught.value) and TOOL_TOKEN not in str(caught.value)


@pytest.fixture
def served_app() -> Iterator[str]:
    """The lookup agent served by uvicorn on a loopback port, in a thread of this process."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_lookup_app(), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


def test_a_running_app_is_called_at_its_url(served_app: str) -> None:
    with VNSSimulator(url=served_app, webhook_token=WEBHOOK_TOKEN) as vns, vns.call(outbound=True) as call:
        assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"] is True
        assert call.invoke("whoami")["outbound"] is True
    assert call.exchanges[1].url == f"{served_app}/vns/tools"
    assert call.end_response == {"status": 0, "errorMessage": "Success"}


def test_a_refused_call_says_so() -> None:
    app = build_lookup_app()

    @app.on_call_start
    async def screen(call: CallContext) -> None:
        if call.caller_id == "9995550100":
            call.refuse("This number is blocked.")

    with VNSSimulator(app) as vns:
        with pytest.raises(SimulationError) as caught, vns.call(caller_id="9995550100"):
            pass
        with vns.call(caller_id="3035550100") as call:
            assert call.invoke("whoami")["callerId"] == "3035550100"
    assert caught.value.status == 403
    assert "was answered with HTTP 403 (the app refused the call)" in str(caught.value)
    assert "This number is blocked." in str(caught.value)


def test_reprs_say_what_they_are(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call(caller_id="3032639999", called_number="7206999999") as call:
        assert repr(call) == (
            f"<SimulatedCall {call.session_guid} inbound from 3032639999 to 7206999999, 1 exchanges, live>"
        )
    assert repr(vns) == "<VNSSimulator app=VNSApp prefix='/vns', 2 exchanges>"


def test_printed_exchanges_point_out_errors_the_model_hears(lookup_app: VNSApp) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call() as call:
        assert call.invoke("lookup_name_or_phone")["error"] == "tool_error"
    assert "    lookup_name_or_phone()\n    -> {" in call.format_exchanges()
    assert "       (the model hears an error: tool_error)" in call.format_exchanges()


def test_a_simulated_call_needs_no_openai_key_and_says_so_quietly(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    import httpx

    for name in ("OPENAI_API_KEY", "VNS_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = VNSApp(instructions="Hi.", webhook_token=WEBHOOK_TOKEN)  # no OpenAI key
    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    with VNSSimulator(app) as vns:
        for _ in range(2):
            with vns.call():
                pass
    notices = [record for record in caplog.records if "OpenAI" in record.getMessage()]
    assert [(record.levelname, record.getMessage()) for record in notices] == [
        ("INFO", "No OpenAI API key, and none is needed here: a simulated call opens no Realtime session.")
    ]

    # VNS itself (any request not from the simulator) still gets the warning: a real call needs the key.
    caplog.clear()

    async def call_start() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://agent.example.com") as http:
            body = {"sessionGuid": "g-1", "callerId": "3032639999", "calledNumber": "7206999999"}
            answer = await http.post("/vns/call-start", json=body, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
        return answer.status_code

    import asyncio

    assert asyncio.run(call_start()) == 200
    assert [record.levelname for record in caplog.records if "OpenAI" in record.getMessage()] == ["WARNING"]
