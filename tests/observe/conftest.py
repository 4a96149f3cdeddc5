"""Fixtures for observing an app: OpenTelemetry's in-memory exporters, and an app with a tool of each fate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from observe_support import (
    OPENAI_KEY,
    WEBHOOK_TOKEN,
    ObservedAppFactory,
    Telemetry,
    chat_script,
    check_order,
    client_for,
    crm_lookup,
    slow_search,
)
from support import lookup_tool

from vns_sdk import CallContext, RealtimeEndpoint, VNSApp
from vns_sdk.app import VNSSettings
from vns_sdk.testing.realtime import ScriptedRealtimeServer


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    backend = Telemetry()
    yield backend
    backend.shutdown()


@pytest.fixture
def settings() -> VNSSettings:
    """Settings that ignore the environment of the machine running the tests."""
    return VNSSettings.model_construct(
        **{name: field.get_default(call_default_factory=True) for name, field in VNSSettings.model_fields.items()}
    )


@pytest.fixture
def observed_app(telemetry: Telemetry, settings: VNSSettings) -> ObservedAppFactory:
    """Build an app on ``telemetry``'s providers, with a tool of each fate and a handler of each webhook."""

    def make(**kwargs: Any) -> VNSApp:
        kwargs.setdefault("webhook_token", WEBHOOK_TOKEN)
        kwargs.setdefault("openai_api_key", OPENAI_KEY)
        kwargs.setdefault("tool_timeout", 0.2)
        kwargs.setdefault("settings", settings)
        app = VNSApp(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            tools=[lookup_tool(), crm_lookup, slow_search, check_order],
            end_conversation=True,
            **kwargs,
        )

        @app.on_call_start
        async def remember_caller(call: CallContext) -> None:
            call.state["caller"] = call.caller_id

        @app.on_call_end
        def file_the_call(call: CallContext) -> None:
            call.state.get("lookups")

        return app

    return make


@pytest.fixture
async def model() -> AsyncIterator[ScriptedRealtimeServer]:
    """The scripted Realtime model of `chat_script`, on loopback."""
    async with ScriptedRealtimeServer(chat_script(), api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
def chat_app(observed_app: ObservedAppFactory, model: ScriptedRealtimeServer) -> VNSApp:
    """An app with its inspector, whose Realtime endpoint is the scripted model."""
    return observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)))


@pytest.fixture
async def http(chat_app: VNSApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``chat_app`` in process (the app is stopped afterwards)."""
    async with client_for(chat_app) as client:
        yield client
