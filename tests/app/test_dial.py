"""Outbound calls through the app: the context given when dialling comes back in call.state."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.app.conftest import AppFactory, client_for, start_call
from vns_sdk.client import AsyncVNSClient, VNSClient
from vns_sdk.context import CallContext
from vns_sdk.exceptions import VNSStatusError

API_URL = "https://vns.example.test/v1/vnsoutboundcall"


def vns_api(status: int = 0, seen: list[dict[str, Any]] | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(json.loads(request.content) | {"auth": request.headers.get("authorization")})
        message = "Success" if status == 0 else "Invalid number"
        return httpx.Response(200, json={"status": status, "errorMessage": message})

    return httpx.MockTransport(answer)


async def test_adial_stores_the_context_for_the_outbound_call_start(make_app: AppFactory) -> None:
    seen: list[dict[str, Any]] = []
    client = AsyncVNSClient(api_url=API_URL, api_token="api-token-1", transport=vns_api(seen=seen))
    app = make_app(async_client=client)
    started: list[tuple[bool, dict[str, Any]]] = []

    @app.on_call_start
    def greet(call: CallContext) -> None:
        started.append((call.outbound, call.state.to_dict()))

    response = await app.adial(
        "3032639999", "7206999999", "Acme Dental", context={"appointment": "Tuesday 10:00", "patient": {"name": "Ann"}}
    )
    assert response.ok
    request = seen[0]
    customer_call_id = request["customerCallId"]
    assert customer_call_id.startswith("vns-")
    assert request | {"customerCallId": None} == {
        "customerCallId": None,
        "calledNumber": "3032639999",
        "callerId": "7206999999",
        "callerIdName": "Acme Dental",
        "auth": "Bearer api-token-1",
    }
    async with client_for(app) as http:
        answer = await start_call(http, outboundTriggered=True, customerCallId=customer_call_id)
    assert started == [(True, {"appointment": "Tuesday 10:00", "patient": {"name": "Ann"}})]
    assert answer["VoiceElements_Instructions"]["customerCallId"] == customer_call_id
    await client.aclose()


async def test_refused_dial_forgets_the_context(make_app: AppFactory) -> None:
    client = AsyncVNSClient(api_url=API_URL, api_token="api-token-1", transport=vns_api(status=3))
    app = make_app(async_client=client)
    with pytest.raises(VNSStatusError, match="Invalid number"):
        await app.adial("3032639999", "7206999999", customer_call_id="abc123", context={"x": 1})
    assert await app.store.pop_dial_context("abc123") is None
    await client.aclose()


def test_sync_dial_outside_an_event_loop(make_app: AppFactory) -> None:
    seen: list[dict[str, Any]] = []
    app = make_app(client=VNSClient(api_url=API_URL, api_token="api-token-1", transport=vns_api(seen=seen)))
    response = app.dial("3032639999", "7206999999", customer_call_id="abc123", context={"reason": "reminder"})
    assert response.status == 0
    assert seen[0]["customerCallId"] == "abc123"
    import asyncio

    assert asyncio.run(app.store.pop_dial_context("abc123")) == {"reason": '"reminder"'}


async def test_sync_dial_inside_an_event_loop_points_to_adial(make_app: AppFactory) -> None:
    app = make_app(client=VNSClient(api_url=API_URL, api_token="api-token-1", transport=vns_api()))
    with pytest.raises(RuntimeError, match="adial"):
        app.dial("3032639999", "7206999999", context={"reason": "reminder"})


async def test_adial_builds_its_client_from_the_settings(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class Recorder(AsyncVNSClient):
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)
            super().__init__(**kwargs, transport=vns_api())

    monkeypatch.setattr("vns_sdk.client.AsyncVNSClient", Recorder)
    from vns_sdk.app import VNSSettings

    settings = VNSSettings.model_validate({"api_url": API_URL, "api_token": "api-token-2"})
    app = make_app(settings=settings)
    assert (await app.adial("3032639999", "7206999999")).ok
    assert made == [{"api_url": API_URL, "api_token": "api-token-2"}]
