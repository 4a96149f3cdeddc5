"""Tests of the appointments example: whole calls placed through the VNS simulator, as VNS places them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vns_sdk.testing import SimulatedCall, VNSSimulator, load_app

HERE = Path(__file__).parent


@pytest.fixture
def vns_app() -> Iterator[Any]:
    """The example's app, for the `vns` and `vns_call` fixtures of the vns-sdk pytest plugin."""
    app = load_app("app.py:app", base_dir=HERE)
    calendar = load_app("app.py:calendar", base_dir=HERE)
    calendar.bookings.clear()  # each test starts with an empty appointment book
    yield app


def next_weekday() -> dt.date:
    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def next_saturday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)


def test_books_the_time_offered_on_the_day_checked(vns_call: SimulatedCall) -> None:
    day = next_weekday().isoformat()

    offered = vns_call.invoke("check_availability", day=day)
    assert offered == {
        "day": day,
        "free_times": ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"],
        "open": True,
    }

    # book_appointment takes no day: it books on the day check_availability offered, kept in call.state.
    booked = vns_call.invoke("book_appointment", time="10:00", name="Ada Lovelace", reason="check-up")
    assert booked == {"booked": True, "booking_id": "A-1001", "day": day, "time": "10:00", "name": "Ada Lovelace"}

    assert "10:00" not in vns_call.invoke("check_availability", day=day)["free_times"]


def test_booking_needs_a_day_checked_first(vns_call: SimulatedCall) -> None:
    reply = vns_call.invoke("book_appointment", time="10:00", name="Ada Lovelace")
    assert reply == {
        "error": "tool_error",
        "message": "Ask which day the caller wants and call check_availability first.",
    }


def test_a_time_booked_in_one_call_is_not_free_in_the_next(vns: VNSSimulator) -> None:
    day = next_weekday().isoformat()
    with vns.call(caller_id="3035550101") as first:
        first.invoke("check_availability", day=day)
        assert first.invoke("book_appointment", time="09:00", name="Ada Lovelace")["booked"]
    with vns.call(caller_id="3035550102") as second:
        assert "09:00" not in second.invoke("check_availability", day=day)["free_times"]
        reply = second.invoke("book_appointment", time="09:00", name="Grace Hopper")
        assert reply["error"] == "tool_error"
        assert reply["message"] == "09:00 is not free on that day. Offer one of the free times instead."


def test_one_booking_per_call_and_cancel_frees_the_time(vns_call: SimulatedCall) -> None:
    calendar = load_app("app.py:calendar", base_dir=HERE)
    day = next_weekday().isoformat()
    vns_call.invoke("check_availability", day=day)
    vns_call.invoke("book_appointment", time="13:00", name="Ada Lovelace")
    assert vns_call.invoke("book_appointment", time="14:00", name="Ada Lovelace")["error"] == "tool_error"

    assert vns_call.invoke("cancel_appointment") == {"cancelled": True, "day": day, "time": "13:00"}
    assert calendar.bookings == {}
    assert vns_call.invoke("cancel_appointment")["message"] == (
        "Nothing has been booked in this call, so there is nothing to cancel."
    )
    assert vns_call.invoke("book_appointment", time="14:00", name="Ada Lovelace")["booked"]


def test_closed_at_weekends_and_no_past_days(vns_call: SimulatedCall) -> None:
    saturday = next_saturday().isoformat()
    assert vns_call.invoke("check_availability", day=saturday) == {"day": saturday, "free_times": [], "open": False}
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert vns_call.invoke("check_availability", day=yesterday)["error"] == "tool_error"


def test_the_agent_knows_todays_date_and_its_tools(vns_call: SimulatedCall) -> None:
    assert f"Today is {dt.date.today():%A %B %d, %Y}." in (vns_call.instructions or "")
    assert list(vns_call.tools) == ["end_conversation", "check_availability", "book_appointment", "cancel_appointment"]
    time_schema = vns_call.tools["book_appointment"].parameters["properties"]["time"]
    assert time_schema["pattern"] == r"^\d{2}:\d{2}$"  # the model is told the format, and the app checks it


def test_a_badly_formatted_time_is_sent_back_to_the_model(vns_call: SimulatedCall) -> None:
    vns_call.invoke("check_availability", day=next_weekday().isoformat())
    # invoke_raw skips the simulator's schema check, as a model ignoring the schema would.
    reply = vns_call.invoke_raw("book_appointment", {"time": "ten", "name": "Ada"}).json()
    assert reply["error"] == "invalid_arguments"
    assert reply["problems"][0]["argument"] == "time"
