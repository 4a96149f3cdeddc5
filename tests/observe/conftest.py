"""Fixtures for observing an app: OpenTelemetry's in-memory exporters, and an app with a tool of each fate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from observe_support import (
    OPENAI_KEY,
    WEBHOOK_TOKEN,
    ObservedAppFactory,
    Telemetry,
    check_order,
    crm_lookup,
    slow_search,
)
from support import lookup_tool

from vns_sdk import CallContext, VNSApp
from vns_sdk.app import VNSSettings


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
