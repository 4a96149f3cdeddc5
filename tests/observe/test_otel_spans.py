"""The spans of a whole call: names, kinds, attributes and parent links, as the conventions say."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from observe_support import OPENAI_KEY, WEBHOOK_TOKEN, ObservedAppFactory, Telemetry
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from vns_sdk import CallContext
from vns_sdk.exceptions import SimulationError, StateStoreError
from vns_sdk.state.memory import MemoryCallStateStore
from vns_sdk.testing import VNSSimulator

GUID = "5b1e7a1c-2f0e-4c1f-9d64-0e3a2f6b8c11"


def children(telemetry: Telemetry, parent: ReadableSpan) -> list[str]:
    return [span.name for span in telemetry.spans() if span.parent and span.parent.span_id == parent.context.span_id]


def server_span(telemetry: Telemetry, route: str, tool: str | None = None) -> ReadableSpan:
    """The SERVER span of ``route`` (for the tools route: the one whose child ran ``tool``)."""
    for span in telemetry.spans():
        is_route = span.kind is SpanKind.SERVER and span.attributes and span.attributes["http.route"] == route
        if is_route and (tool is None or f"execute_tool {tool}" in children(telemetry, span)):
            return span
    raise AssertionError(f"no SERVER span for {route} {tool or ''}")


def test_a_whole_call(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()
    with VNSSimulator(app) as vns, vns.call(session_guid=GUID, caller_id="3035550142") as call:
        assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"]
        assert call.invoke("crm_lookup", account="77")["error"] == "error"
        assert call.invoke("slow_search", query="invoices")["error"] == "timeout"
        assert call.invoke("check_order", order="Z9")["error"] == "tool_error"

    # CallStart: a SERVER span named by its route, its handler and the store write inside it.
    start = server_span(telemetry, "/vns/call-start")
    assert start.name == "POST /vns/call-start"
    assert start.parent is None
    assert start.status.status_code is StatusCode.UNSET
    assert start.attributes is not None
    assert start.attributes["http.request.method"] == "POST"
    assert start.attributes["http.response.status_code"] == 200
    assert start.attributes["url.path"] == "/vns/call-start"
    assert start.attributes["gen_ai.conversation.id"] == GUID
    assert "error.type" not in start.attributes
    assert children(telemetry, start) == ["call_start remember_caller", "call_state start_call"]
    handler = telemetry.span("call_start remember_caller")
    assert handler.kind is SpanKind.INTERNAL
    assert handler.attributes is not None
    assert dict(handler.attributes) == {
        "vns.handler.phase": "call_start",
        "code.function.name": "observed_app.<locals>.make.<locals>.remember_caller",
        "gen_ai.conversation.id": GUID,
    }

    # A tool call: SERVER span -> load the call, run the tool, save the state it changed.
    lookup = server_span(telemetry, "/vns/tools", "lookup_name_or_phone")
    assert lookup.name == "POST /vns/tools"
    assert children(telemetry, lookup) == [
        "call_state acquire_call",
        "execute_tool lookup_name_or_phone",
        "call_state save_call",
    ]
    run = telemetry.span("execute_tool lookup_name_or_phone")
    assert run.kind is SpanKind.INTERNAL
    assert run.context.trace_id == lookup.context.trace_id
    assert run.attributes == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup_name_or_phone",
        "gen_ai.tool.type": "function",
        "gen_ai.conversation.id": GUID,
        "vns.tool.outcome": "ok",
    }
    assert run.status.status_code is StatusCode.UNSET
    saved = [s for s in telemetry.spans() if s.name == "call_state save_call"]
    assert saved[0].attributes is not None
    assert saved[0].attributes["vns.state.updated_keys"] == ("lookups",)  # the names of the keys, never the values

    # A failing tool: the model hears a 200, the tool's span is an error named by the exception's type.
    crm = telemetry.span("execute_tool crm_lookup")
    assert crm.status.status_code is StatusCode.ERROR
    assert crm.attributes is not None
    assert crm.attributes["error.type"] == "observe_support.CRMDown"
    assert crm.attributes["vns.tool.outcome"] == "error"
    (event,) = crm.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "observe_support.CRMDown"
    assert "CRM at https://crm.example.com refused key" in str(event.attributes["exception.message"])
    crm_server = server_span(telemetry, "/vns/tools", "crm_lookup")
    assert crm_server.status.status_code is StatusCode.UNSET  # the webhook itself answered 200
    assert crm_server.attributes is not None
    assert crm_server.attributes["http.response.status_code"] == 200

    # A timed-out tool: error.type "timeout".
    slow = telemetry.span("execute_tool slow_search")
    assert slow.status.status_code is StatusCode.ERROR
    assert slow.attributes is not None
    assert slow.attributes["error.type"] == "timeout"
    assert slow.parent is not None
    assert slow.parent.span_id == server_span(telemetry, "/vns/tools", "slow_search").context.span_id

    # A ToolError: what the tool meant the model to hear; still an error of the run.
    order = telemetry.span("execute_tool check_order")
    assert order.attributes is not None
    assert order.attributes["error.type"] == "tool_error"
    assert not order.events

    # CallEnd: its turn with the state, the claim and the final state in one step, then the handler.
    end = server_span(telemetry, "/vns/call-end")
    assert children(telemetry, end)[:2] == ["call_state end_call", "call_end file_the_call"]
    # Each webhook is a trace of its own (VNS sends no traceparent), all holding the call's id.
    servers = [span for span in telemetry.spans() if span.kind is SpanKind.SERVER]
    assert len(servers) == 6
    assert len({span.context.trace_id for span in servers}) == 6
    assert all(span.attributes and span.attributes["gen_ai.conversation.id"] == GUID for span in servers)


async def test_an_incoming_traceparent_is_the_parent(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    body = {"sessionGuid": GUID, "callerId": "3035550142", "calledNumber": "7206999999"}
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "traceparent": f"00-{trace_id}-{parent_id}-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as http:
        assert (await http.post("/vns/call-start", json=body, headers=headers)).status_code == 200
    start = server_span(telemetry, "/vns/call-start")
    assert format(start.context.trace_id, "032x") == trace_id
    assert start.parent is not None
    assert start.parent.is_remote
    assert format(start.parent.span_id, "016x") == parent_id
    # The work inside belongs to the same trace.
    assert {span.context.trace_id for span in telemetry.spans()} == {start.context.trace_id}


async def test_a_client_error_leaves_the_status_unset(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as http:
        refused = await http.post("/vns/tools/lookup_name_or_phone", json={"name": "Ron"})
        wrong = await http.post("/vns/call-start", json={}, headers={"Authorization": "Bearer nope"})
    assert (refused.status_code, wrong.status_code) == (401, 401)
    tools, start = server_span(telemetry, "/vns/tools/{path}"), server_span(telemetry, "/vns/call-start")
    for span in (tools, start):
        assert span.status.status_code is StatusCode.UNSET
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == 401
        assert "error.type" not in span.attributes
    assert tools.attributes is not None
    assert tools.attributes["vns.webhook.outcome"] == "token_missing"


class BrokenStore(MemoryCallStateStore):
    """A store with a bug (not a StateStoreError, which the app answers): the app fails with a 500."""

    async def start_call(self, *args: Any) -> None:
        raise RuntimeError("store bug")


async def test_a_server_error_sets_the_status(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app(state_store=BrokenStore())
    body = {"sessionGuid": GUID, "callerId": "3035550142", "calledNumber": "7206999999"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as http:
        response = await http.post("/vns/call-start", json=body, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
    assert response.status_code == 500
    start = server_span(telemetry, "/vns/call-start")
    assert start.status.status_code is StatusCode.ERROR
    assert start.attributes is not None
    assert start.attributes["error.type"] == "RuntimeError"
    store = telemetry.span("call_state start_call")
    assert store.status.status_code is StatusCode.ERROR
    assert store.attributes is not None
    assert store.attributes["error.type"] == "RuntimeError"


async def test_a_store_failure_is_an_error_of_its_span(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    class DownStore(MemoryCallStateStore):
        async def acquire_call(self, session_guid: str, **options: Any) -> Any:
            raise StateStoreError("redis://:hunter2-password@redis:6379 is down")

    app = observed_app(state_store=DownStore())
    with VNSSimulator(app) as vns, vns.call(session_guid=GUID) as call:
        assert call.invoke("lookup_name_or_phone", name="Ron")["error"] == "unavailable"
    load = [span for span in telemetry.spans() if span.name == "call_state acquire_call"][0]
    assert load.status.status_code is StatusCode.ERROR
    assert load.attributes is not None
    assert load.attributes["error.type"] == "vns_sdk.exceptions.StateStoreError"
    assert server_span(telemetry, "/vns/tools").status.status_code is StatusCode.UNSET


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (f"/vns/tools/{GUID}/lookup_name_or_phone/CallId-001", "/vns/tools/{path}"),
        ("/vns/tools/lookup_name_or_phone", "/vns/tools/{path}"),
        (f"/vns/tools?toolname=lookup_name_or_phone&sessionguid={GUID}", "/vns/tools"),
    ],
)
async def test_the_span_is_named_by_the_route_never_the_path(
    observed_app: ObservedAppFactory, telemetry: Telemetry, path: str, route: str
) -> None:
    app = observed_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as http:
        body = {"sessionGuid": GUID, "callerId": "3035550142", "calledNumber": "7206999999"}
        answer = (
            await http.post("/vns/call-start", json=body, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
        ).json()
        token = answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]["headers"]["Authorization"]
        reply = await http.post(path, json={"name": "Ron"}, headers={"Authorization": token})
    assert reply.json()["contactFound"]
    span = server_span(telemetry, route, "lookup_name_or_phone")
    assert span.name == f"POST {route}"
    assert GUID not in span.name
    assert span.attributes is not None
    assert span.attributes["http.route"] == route


def test_arguments_and_results_only_when_asked(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    with VNSSimulator(observed_app()) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    attributes = telemetry.span("execute_tool lookup_name_or_phone").attributes or {}
    assert "gen_ai.tool.call.arguments" not in attributes
    assert "gen_ai.tool.call.result" not in attributes

    telemetry.exporter.clear()
    with VNSSimulator(observed_app(telemetry_content=True)) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
        call.invoke("check_order", order=f"Bearer {OPENAI_KEY}")
    attributes = telemetry.span("execute_tool lookup_name_or_phone").attributes or {}
    assert json.loads(str(attributes["gen_ai.tool.call.arguments"])) == {"name": "Ron"}
    assert json.loads(str(attributes["gen_ai.tool.call.result"]))["contactName"] == "Ron Tanner"
    order = telemetry.span("execute_tool check_order").attributes or {}
    assert OPENAI_KEY not in str(order["gen_ai.tool.call.arguments"])  # redacted, as in transcripts
    assert OPENAI_KEY not in str(order["gen_ai.tool.call.result"])


def test_switched_off(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app(telemetry=False)
    assert app._runtime.events is None
    assert type(app._runtime.store).__name__ == "MemoryCallStateStore"  # not wrapped
    with VNSSimulator(app) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    assert telemetry.spans() == []


def test_a_handler_failure_is_an_error_of_its_span(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()

    @app.on_call_end
    async def notify(call: CallContext) -> None:
        raise ConnectionError("mail server down")

    with VNSSimulator(app) as vns, vns.call() as call, pytest.raises(SimulationError, match="status 1"):
        call.end()
    failed = telemetry.span("call_end notify")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "ConnectionError"
    assert server_span(telemetry, "/vns/call-end").status.status_code is StatusCode.UNSET


class PassThrough:
    """A user's ASGI middleware: with one, tool calls go through the router instead of the app's fast path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def test_through_the_router_too(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()
    app.add_middleware(PassThrough)
    with VNSSimulator(app) as vns, vns.call(session_guid=GUID) as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    lookup = server_span(telemetry, "/vns/tools", "lookup_name_or_phone")
    assert children(telemetry, lookup) == [
        "call_state acquire_call",
        "execute_tool lookup_name_or_phone",
        "call_state save_call",
    ]
