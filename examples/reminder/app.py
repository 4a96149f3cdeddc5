"""Appointment reminders: the agent phones each patient the day before, and confirms, moves or cancels.

A daily job (``python app.py 2026-11-25``) asks VNS to dial every patient booked that day, with a dial
*context*: the appointment's details. When the patient answers, VNS sends the outbound-triggered CallStart
with the call's customerCallId; the app finds the context under it and hands it to the call as
``call.state``, so the CallStart handler can brief the agent ("You are calling Ana about her appointment
with Dr. Patel on Wednesday at 10:30") and the tools know which appointment to change, on whichever
worker each webhook lands. A patient who calls back gets the same agent, briefed from their caller ID.

Run it (with several workers, add VNS_REDIS_URL so they share call state and dial contexts):

    VNS_WEBHOOK_TOKEN=... VNS_API_TOKEN=... uvicorn --app-dir examples/reminder app:app
    vns-sdk dev examples/reminder/app.py
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from vns_sdk import CallContext, ToolError, VNSApp
from vns_sdk.models import OutboundCallResponse

__all__ = [
    "CLINIC",
    "Appointment",
    "AppointmentBook",
    "app",
    "aremind",
    "book",
    "create_app",
    "dial_arguments",
    "remind",
]

CLINIC = {"name": "Riverside Clinic", "number": "7206999999"}
OPENING_HOURS = ("09:00", "09:30", "10:00", "10:30", "11:00", "14:00", "14:30", "15:00", "15:30")

INSTRUCTIONS = (
    f"You are the friendly voice assistant of {CLINIC['name']}. Keep every answer short: this is a phone call. "
    "Never give medical advice. When the conversation is over, say goodbye and call end_conversation."
)
Time = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", description="A time of day as HH:MM, like 14:30.")]


@dataclass
class Appointment:
    """One booking in the clinic's schedule."""

    id: str
    patient: str
    phone: str
    doctor: str
    day: dt.date
    time: str
    status: str = "booked"  # booked, confirmed, cancelled

    def spoken(self) -> str:
        return f"{self.day:%A, %B} {self.day.day} at {self.time} with {self.doctor}"


@dataclass
class AppointmentBook:
    """The clinic's schedule. A real deployment calls its practice-management system here."""

    appointments: dict[str, Appointment] = field(default_factory=dict)
    call_log: list[dict[str, Any]] = field(default_factory=list)

    def add(self, appointment: Appointment) -> None:
        self.appointments[appointment.id] = appointment

    def on(self, day: dt.date) -> list[Appointment]:
        return [a for a in self.appointments.values() if a.day == day and a.status != "cancelled"]

    def next_for(self, phone: str | None, today: dt.date) -> Appointment | None:
        mine = [a for a in self.appointments.values() if a.phone == phone and a.status != "cancelled"]
        upcoming = sorted((a for a in mine if a.day >= today), key=lambda a: (a.day, a.time))
        return upcoming[0] if upcoming else None

    def free_times(self, day: dt.date, doctor: str) -> list[str]:
        if day.weekday() >= 5:
            return []
        taken = {a.time for a in self.on(day) if a.doctor == doctor}
        return [time for time in OPENING_HOURS if time not in taken]


def dial_arguments(appointment: Appointment) -> dict[str, Any]:
    """What `app.dial` gets for one reminder: the patient's number and the context the call starts with."""
    return {
        "called_number": appointment.phone,
        "caller_id": CLINIC["number"],
        "caller_id_name": CLINIC["name"],
        # One id per appointment and day: VNS sends it back in the CallStart and CallEnd of this call.
        "customer_call_id": f"reminder-{appointment.id}-{appointment.day.isoformat()}",
        "context": {
            "appointment_id": appointment.id,
            "patient": appointment.patient,
            "when": appointment.spoken(),
        },
    }


def remind(app: VNSApp, appointments: Iterable[Appointment]) -> list[OutboundCallResponse]:
    """Ask VNS to call each patient (from a script or a job queue: code outside an event loop)."""
    return [app.dial(**dial_arguments(appointment)) for appointment in appointments]


async def aremind(app: VNSApp, appointment: Appointment) -> OutboundCallResponse:
    """Ask VNS to call one patient (from async code: a FastAPI endpoint, a worker task)."""
    return await app.adial(**dial_arguments(appointment))


def create_app(book: AppointmentBook | None = None, *, today: dt.date | None = None, **options: Any) -> VNSApp:
    """Build the reminder agent over an appointment book.

    Args:
        book: The clinic's schedule (default: an empty one).
        today: The date the agent assumes (default: the real one); tests pin it.
        **options: Passed to `VNSApp` (``webhook_token``, ``redis_url``, ``client``, ...).
    """
    book = book if book is not None else AppointmentBook()
    app = VNSApp(instructions=INSTRUCTIONS, voice="sage", end_conversation=True, **options)

    def current_day() -> dt.date:
        return today or dt.date.today()

    def appointment_of(call: CallContext) -> Appointment:
        appointment = book.appointments.get(call.state.get("appointment_id", ""))
        if appointment is None or appointment.status == "cancelled":
            raise ToolError("There is no appointment on file for this call. Offer to have the front desk call back.")
        return appointment

    @app.on_call_start
    async def brief_the_agent(call: CallContext) -> None:
        if call.outbound:
            # call.state holds the context given to app.dial for this customerCallId.
            if "appointment_id" not in call.state:
                brief = (
                    "You placed this call but its details are lost. Apologize, say the clinic will call back, "
                    "and end the conversation."
                )
            else:
                brief = (
                    f"You are calling {call.state['patient']} to remind them of their appointment on "
                    f"{call.state['when']}. First make sure you are speaking with {call.state['patient']}; "
                    "if not, offer to call back later and end the conversation without giving any details. "
                    "Then ask whether they will come: call confirm_appointment if so. If the time no longer "
                    "suits them, offer find_free_times and reschedule_appointment, or cancel_appointment."
                )
        else:
            found = book.next_for(call.caller_id, current_day())
            if found is None:
                brief = "The caller has no upcoming appointment on file. Offer to have the front desk call back."
            else:
                call.state.update(appointment_id=found.id, patient=found.patient, when=found.spoken())
                brief = (
                    f"The caller, {found.patient}, is probably calling back about their appointment on "
                    f"{found.spoken()}. Help them confirm, reschedule or cancel it."
                )
        if call.session is not None:  # always set in a CallStart handler
            call.session.instructions = f"{call.session.instructions} Today is {current_day():%A, %B %d, %Y}. {brief}"

    @app.tool
    async def confirm_appointment(call: CallContext) -> dict[str, Any]:
        """Confirms that the patient will come to their appointment."""
        appointment = appointment_of(call)
        appointment.status = "confirmed"
        call.state["outcome"] = "confirmed"
        return {"confirmed": True, "when": appointment.spoken()}

    @app.tool
    async def find_free_times(call: CallContext, day: dt.date) -> dict[str, Any]:
        """Lists the times the patient's doctor is free on a day.

        Args:
            day: The day the patient would prefer, as YYYY-MM-DD.
        """
        appointment = appointment_of(call)
        if day <= current_day():
            raise ToolError("Appointments can only be moved to a day after today. Ask for another day.")
        free = book.free_times(day, appointment.doctor)
        if not free:
            raise ToolError(f"{appointment.doctor} has no free time on {day:%A, %B} {day.day}. Ask for another day.")
        return {"day": day.isoformat(), "doctor": appointment.doctor, "free_times": free}

    @app.tool
    async def reschedule_appointment(call: CallContext, day: dt.date, time: Time) -> dict[str, Any]:
        """Moves the patient's appointment to a free time found with find_free_times.

        Args:
            day: The new day, as YYYY-MM-DD.
            time: The new time, one of the free times offered.
        """
        appointment = appointment_of(call)
        if day <= current_day() or time not in book.free_times(day, appointment.doctor):
            raise ToolError("That time is not free. Call find_free_times and offer one of the times it lists.")
        appointment.day, appointment.time, appointment.status = day, time, "confirmed"
        call.state.update(outcome="rescheduled", when=appointment.spoken())
        return {"rescheduled": True, "when": appointment.spoken()}

    @app.tool
    async def cancel_appointment(call: CallContext, reason: str | None = None) -> dict[str, Any]:
        """Cancels the patient's appointment.

        Args:
            reason: Why the patient cancels, if they said.
        """
        appointment = appointment_of(call)
        appointment.status = "cancelled"
        call.state.update(outcome="cancelled", reason=reason)
        return {"cancelled": True, "was": appointment.spoken()}

    @app.on_call_end
    async def log_the_outcome(call: CallContext) -> None:
        # CallEnd sees the state the tools left, on whichever worker it lands.
        book.call_log.append(
            {
                "customer_call_id": call.customer_call_id,
                "appointment_id": call.state.get("appointment_id"),
                "outbound": call.outbound,
                "outcome": call.state.get("outcome", "no decision"),
            }
        )

    return app


def _sample_book() -> AppointmentBook:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    book = AppointmentBook()
    book.add(Appointment("A-1001", "Ana Lopez", "3035550101", "Dr. Patel", tomorrow, "10:30"))
    book.add(Appointment("A-1002", "Ben Okafor", "3035550102", "Dr. Patel", tomorrow, "14:00"))
    return book


book = _sample_book()
app = create_app(book)

if __name__ == "__main__":
    # The daily job: python app.py [YYYY-MM-DD] dials every patient booked that day (default: tomorrow).
    day = dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else dt.date.today() + dt.timedelta(days=1)
    for answer in remind(app, book.on(day)):
        print(f"VNS: status {answer.status} ({answer.error_message})")
