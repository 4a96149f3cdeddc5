"""The reminder agent, tested offline: VNS's outbound API is an httpx mock, the calls are simulated.

A reminder goes: `remind` asks VNS to dial (the mock records the request), then VNS would send the
outbound-triggered CallStart with the same customerCallId; the simulator sends it, and the call starts
with the appointment's context in ``call.state``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from vns_sdk import AsyncVNSClient, VNSApp, VNSClient, VNSStatusError
from vns_sdk.testing import VNSSimulator

# app.py also builds a module-level `app` from the environment, as `uvicorn app:app` does: give that
# import a webhook token, and take it back. Each test builds its own app with create_app().
with pytest.MonkeyPatch.context() as env:
    env.setenv("VNS_WEBHOOK_TOKEN", "token-for-the-module-level-app")
    from .app import CLINIC, Appointment, AppointmentBook, aremind, create_app, dial_arguments, remind

TODAY = dt.date(2026, 11, 24)  # a Tuesday
TOMORROW = TODAY + dt.timedelta(days=1)
ANA_CALL_ID = "reminder-A-1001-2026-11-25"


class FakeVNS:
    """VNS's outbound-call API: records each dial request and gives one answer."""

    def __init__(self) -> None:
        self.dialled: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {"status": 0, "errorMessage": "Success"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer test-api-token"
        self.dialled.append(json.loads(request.content))
        return httpx.Response(200, json=self.answer)


@pytest.fixture
def book() -> AppointmentBook:
    book = AppointmentBook()
    book.add(Appointment("A-1001", "Ana Lopez", "3035550101", "Dr. Patel", TOMORROW, "10:30"))
    book.add(Appointment("A-1002", "Ben Okafor", "3035550102", "Dr. Patel", TOMORROW, "14:00"))
    book.add(Appointment("A-1003", "Cy Young", "3035550103", "Dr. Patel", TOMORROW + dt.timedelta(days=1), "09:00"))
    return book


@pytest.fixture
def vns_api() -> FakeVNS:
    return FakeVNS()


@pytest.fixture
def vns_app(book: AppointmentBook, vns_api: FakeVNS) -> VNSApp:
    """The app under test (the `vns` fixture of vns-sdk's pytest plugin simulates calls to it)."""
    return create_app(
        book,
        today=TODAY,
        webhook_token="test-webhook-token",
        client=VNSClient(api_token="test-api-token", transport=httpx.MockTransport(vns_api)),
        async_client=AsyncVNSClient(api_token="test-api-token", transport=httpx.MockTransport(vns_api)),
    )


def test_the_reminder_call_is_briefed_from_the_dial_context_and_confirms(
    vns: VNSSimulator, vns_app: VNSApp, vns_api: FakeVNS, book: AppointmentBook
) -> None:
    answers = remind(vns_app, book.on(TOMORROW))
    assert [answer.status for answer in answers] == [0, 0]
    assert vns_api.dialled[0] == {
        "customerCallId": ANA_CALL_ID,
        "calledNumber": "3035550101",
        "callerId": CLINIC["number"],
        "callerIdName": CLINIC["name"],
    }

    # VNS accepted: it now sends the outbound-triggered CallStart of Ana's call.
    with vns.call(outbound=True, customer_call_id=ANA_CALL_ID, called_number="3035550101") as call:
        assert call.instructions is not None
        assert "calling Ana Lopez" in call.instructions
        assert "Wednesday, November 25 at 10:30 with Dr. Patel" in call.instructions
        assert call.invoke("confirm_appointment") == {
            "confirmed": True,
            "when": "Wednesday, November 25 at 10:30 with Dr. Patel",
        }

    assert book.appointments["A-1001"].status == "confirmed"
    assert book.call_log == [
        {"customer_call_id": ANA_CALL_ID, "appointment_id": "A-1001", "outbound": True, "outcome": "confirmed"}
    ]


async def test_the_patient_moves_the_appointment(vns_app: VNSApp, vns_api: FakeVNS, book: AppointmentBook) -> None:
    answer = await aremind(vns_app, book.appointments["A-1001"])
    assert answer.ok
    assert vns_api.dialled[0]["customerCallId"] == ANA_CALL_ID

    async with VNSSimulator(vns_app) as vns, vns.acall(outbound=True, customer_call_id=ANA_CALL_ID) as call:
        friday = TOMORROW + dt.timedelta(days=2)
        free = await call.invoke("find_free_times", day=friday.isoformat())
        assert free["free_times"][:3] == ["09:00", "09:30", "10:00"]

        taken = await call.invoke("reschedule_appointment", day=TOMORROW.isoformat(), time="14:00")
        assert taken["error"] == "tool_error"
        assert "not free" in taken["message"]

        moved = await call.invoke("reschedule_appointment", day=friday.isoformat(), time="09:30")
        assert moved == {"rescheduled": True, "when": "Friday, November 27 at 09:30 with Dr. Patel"}

    assert (book.appointments["A-1001"].day, book.appointments["A-1001"].time) == (friday, "09:30")
    assert book.call_log[-1]["outcome"] == "rescheduled"


def test_a_patient_calling_back_is_recognized_and_can_cancel(vns: VNSSimulator, book: AppointmentBook) -> None:
    with vns.call(caller_id="3035550102") as call:  # inbound: no dial, no context
        assert call.instructions is not None
        assert "The caller, Ben Okafor" in call.instructions
        reply = call.invoke("cancel_appointment", reason="Travelling that week")
        assert reply == {"cancelled": True, "was": "Wednesday, November 25 at 14:00 with Dr. Patel"}

    assert book.appointments["A-1002"].status == "cancelled"
    assert book.call_log == [
        {"customer_call_id": None, "appointment_id": "A-1002", "outbound": False, "outcome": "cancelled"}
    ]


def test_an_unknown_caller_hears_there_is_nothing_on_file(vns: VNSSimulator, book: AppointmentBook) -> None:
    with vns.call(caller_id="3035550199") as call:
        assert call.instructions is not None
        assert "no upcoming appointment" in call.instructions
        reply = call.invoke("confirm_appointment")
        assert reply["error"] == "tool_error"
        assert reply["message"].startswith("There is no appointment on file")
    assert book.call_log[0]["outcome"] == "no decision"


def test_a_refused_dial_raises_and_leaves_no_context_behind(
    vns: VNSSimulator, vns_app: VNSApp, vns_api: FakeVNS, book: AppointmentBook
) -> None:
    vns_api.answer = {"status": 2, "errorMessage": "Number is on the do-not-call list"}
    with pytest.raises(VNSStatusError) as refused:
        remind(vns_app, [book.appointments["A-1001"]])
    assert refused.value.error_message == "Number is on the do-not-call list"

    # Had a CallStart come for it anyway, it would find no appointment in call.state.
    with vns.call(outbound=True, customer_call_id=ANA_CALL_ID) as call:
        assert call.instructions is not None
        assert "details are lost" in call.instructions


def test_appointments_cannot_move_to_the_past(vns: VNSSimulator, vns_app: VNSApp, book: AppointmentBook) -> None:
    remind(vns_app, [book.appointments["A-1001"]])
    with vns.call(outbound=True, customer_call_id=ANA_CALL_ID) as call:
        reply = call.invoke("find_free_times", day=TODAY.isoformat())
        assert reply["error"] == "tool_error"
        assert "after today" in reply["message"]


def test_every_reminder_has_its_own_call_id_and_context(book: AppointmentBook) -> None:
    arguments = [dial_arguments(appointment) for appointment in book.appointments.values()]
    assert len({a["customer_call_id"] for a in arguments}) == 3
    assert arguments[1]["context"] == {
        "appointment_id": "A-1002",
        "patient": "Ben Okafor",
        "when": "Wednesday, November 25 at 14:00 with Dr. Patel",
    }
