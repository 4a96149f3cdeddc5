"""Metrics (tools by outcome, webhooks by route and status, calls in progress) and the secrets no span holds."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
from observe_support import OPENAI_KEY, WEBHOOK_TOKEN, ObservedAppFactory, Telemetry

from vns_sdk.testing import VNSSimulator


def test_tool_durations_by_tool_and_outcome(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    with VNSSimulator(observed_app()) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
        call.invoke("lookup_name_or_phone", name="Jane")
        call.invoke("crm_lookup", account="1")
        call.invoke("slow_search", query="x")
        assert call.invoke_raw("no_such_tool").json()["error"] == "unknown_tool"
    points = {
        (attributes["gen_ai.tool.name"], attributes["vns.tool.outcome"], attributes.get("error.type")): count
        for attributes, count in telemetry.points("vns.tool.duration")
    }
    assert points == {
        ("lookup_name_or_phone", "ok", None): 2,
        ("crm_lookup", "error", "observe_support.CRMDown"): 1,
        ("slow_search", "timeout", "timeout"): 1,
        # A name the app does not know comes from the request: it never becomes a metric's attribute value.
        ("_OTHER", "unknown_tool", "unknown_tool"): 1,
    }


async def test_webhooks_by_route_and_status(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    app = observed_app()
    body = {"sessionGuid": "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1", "callerId": "303", "calledNumber": "720"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as http:
        await http.post("/vns/call-start", json=body, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
        await http.post("/vns/call-start", json=body)
        await http.post("/vns/tools", json={})
        await http.get("/vns/health")
    points = {
        (attributes["http.route"], attributes["http.response.status_code"]): count
        for attributes, count in telemetry.points("http.server.request.duration")
    }
    assert points == {("/vns/call-start", 200): 1, ("/vns/call-start", 401): 1, ("/vns/tools", 401): 1}
    for attributes, _ in telemetry.points("http.server.request.duration"):
        assert attributes["http.request.method"] == "POST"
        assert "error.type" not in attributes  # a 4xx is the client's, not an error of the server


def test_calls_in_progress(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    def active() -> Any:
        points = telemetry.points("vns.calls.active")
        return points[0][1] if points else 0

    with VNSSimulator(observed_app()) as vns:
        with vns.call() as first:
            assert active() == 1
            with vns.call():
                assert active() == 2
            assert active() == 1
            first.end()
        assert active() == 0


def strings(value: Any) -> Iterator[str]:
    """Every text inside an attribute value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def test_no_secret_in_any_attribute(observed_app: ObservedAppFactory, telemetry: Telemetry) -> None:
    basic = "vns-support:basic-password-2d9c41"
    app = observed_app(webhook_basic_auth=basic, telemetry_content=True)
    with VNSSimulator(app) as vns, vns.call() as call:
        tool_token = call.response.voice_elements_instructions.default_tools_url_base.headers["Authorization"]
        call.invoke("lookup_name_or_phone", name=OPENAI_KEY)  # a key spoken as an argument
        call.invoke("crm_lookup", account="1")  # a key in an exception's message
        call.invoke("check_order", order=tool_token)  # a token in an argument and in the reply
    # The browser's way of presenting the credentials, too (the inspector's page would be open to it).
    encoded = base64.b64encode(basic.encode()).decode()
    secrets = [WEBHOOK_TOKEN, OPENAI_KEY, tool_token.removeprefix("Bearer "), "basic-password-2d9c41", encoded]
    seen: list[str] = []
    for span in telemetry.spans():
        seen.append(span.name)
        for value in (span.attributes or {}).values():
            seen.extend(strings(value))
        for event in span.events:
            for value in (event.attributes or {}).values():
                seen.extend(strings(value))
    for metric in ("http.server.request.duration", "vns.tool.duration", "vns.calls.active"):
        for attributes, _ in telemetry.points(metric):
            for value in attributes.values():
                seen.extend(strings(value))
    assert any("gen_ai.tool.call" in name for span in telemetry.spans() for name in (span.attributes or {}))
    text = "\n".join(seen)
    assert "CRM at https://crm.example.com refused key" in text  # the message is there, without the key
    for secret in secrets:
        assert secret not in text
