"""The quickstart's tests: whole simulated calls, no phone and no accounts."""

from __future__ import annotations

from typing import Any

import pytest

from vns_sdk.testing import SimulatedCall


@pytest.fixture
def vns_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "test-token")  # the app refuses to start without a token
    from app import app

    return app


def test_open_on_friday(vns_call: SimulatedCall) -> None:
    assert vns_call.invoke("opening_hours", day="friday") == {"day": "friday", "open": True, "hours": "7:00 to 19:00"}


def test_closed_on_monday(vns_call: SimulatedCall) -> None:
    assert vns_call.invoke("opening_hours", day="monday") == {"day": "monday", "open": False}


def test_the_model_gets_the_tools(vns_call: SimulatedCall) -> None:
    assert list(vns_call.tools) == ["end_conversation", "opening_hours"]
    assert "Rosa's Bakery" in (vns_call.instructions or "")
