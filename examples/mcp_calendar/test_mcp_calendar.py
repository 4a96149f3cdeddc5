"""Tests of the MCP calendar example: whole calls through the VNS simulator, the calendar a real MCP server.

The calendar server (`calendar_server.py`, built with the official MCP SDK) runs on a loopback port behind a
bearer token for the whole module; the app reaches it through ``CALENDAR_MCP_URL`` and ``CALENDAR_MCP_TOKEN``,
as it would in production.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from vns_sdk.testing import SimulatedCall, VNSSimulator, load_app

HERE = Path(__file__).parent
TOKEN = "calendar-token-3f9a61"


class CalendarServer:
    """`calendar_server.http_app` under uvicorn on 127.0.0.1, in a thread; it can be stopped and started again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        calendar_server = load_app("calendar_server.py:http_app", base_dir=HERE)
        config = uvicorn.Config(
            calendar_server(TOKEN), host="127.0.0.1", port=self.port, log_config=None, timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            assert self.thread.is_alive(), "the calendar server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=20)


@pytest.fixture(scope="module")
def calendar_server() -> Iterator[CalendarServer]:
    server = CalendarServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def vns_app(calendar_server: CalendarServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The example's app, for the `vns` and `vns_call` fixtures of the vns-sdk pytest plugin."""
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "test-token")
    monkeypatch.setenv("CALENDAR_MCP_URL", f"http://127.0.0.1:{calendar_server.port}/mcp")
    monkeypatch.setenv("CALENDAR_MCP_TOKEN", TOKEN)
    load_app("calendar_server.py:BOOKINGS", base_dir=HERE).clear()  # each test starts with an empty book
    return load_app("app.py:app", base_dir=HERE)


def next_weekday() -> str:
    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day.isoformat()


def test_the_calendar_tools_are_offered_beside_the_apps_own(vns_call: SimulatedCall) -> None:
    assert set(vns_call.tools) == {
        "end_conversation",
        "practice_address",
        "check_availability",
        "book_appointment",
        "cancel_appointment",
    }
    assert vns_call.tools["book_appointment"].parameters["required"] == ["day", "time", "name"]
    assert "Today is" in (vns_call.instructions or "")


def test_books_a_time_the_calendar_offered(vns_call: SimulatedCall) -> None:
    day = next_weekday()
    offered = vns_call.invoke("check_availability", day=day)
    assert offered == {
        "day": day,
        "open": True,
        "free_times": ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"],
    }
    booked = vns_call.invoke("book_appointment", day=day, time="10:00", name="Ada Lovelace", reason="check-up")
    assert booked == {
        "booked": True,
        "booking_id": booked["booking_id"],
        "day": day,
        "time": "10:00",
        "name": "Ada Lovelace",
    }
    assert "10:00" not in vns_call.invoke("check_availability", day=day)["free_times"]
    assert vns_call.invoke("cancel_appointment", booking_id=booked["booking_id"])["cancelled"] is True


def test_the_calendars_refusal_is_what_the_model_hears(vns: VNSSimulator) -> None:
    day = next_weekday()
    with vns.call() as first, vns.call() as second:
        first.invoke("book_appointment", day=day, time="09:00", name="Ada Lovelace")
        taken = second.invoke("book_appointment", day=day, time="09:00", name="Grace Hopper")
    assert taken["error"] == "tool_error"
    assert f"09:00 on {day} was just taken" in taken["message"]


def test_a_calendar_that_is_down_is_answered_in_words(vns_call: SimulatedCall, calendar_server: CalendarServer) -> None:
    assert vns_call.invoke("practice_address")["address"].startswith("12 Maple Street")
    calendar_server.stop()
    try:
        reply = vns_call.invoke("check_availability", day=next_weekday())
        assert reply["error"] == "tool_error"
        assert "cannot reach the service it needs right now" in reply["message"]
        assert vns_call.invoke("practice_address")["parking"]  # the app's own tools still answer
    finally:
        calendar_server.start()
