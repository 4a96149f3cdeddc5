"""Appointment scheduling: a voice agent that finds a free slot, books it and can cancel it.

The tools share what the caller chose through `call.state`, which lives from CallStart through every
tool call to CallEnd: `check_availability` remembers the day it offered, `book_appointment` books a time
on that day and remembers the booking, `cancel_appointment` cancels the booking made in this call.

Run it:

    VNS_INSECURE_DEV=1 uvicorn --app-dir examples/appointments app:app
    vns-sdk dev examples/appointments/app.py
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any

from pydantic import Field

from vns_sdk import CallContext, ToolError, VNSApp

__all__ = ["OPENING_HOURS", "Calendar", "app", "calendar"]

OPENING_HOURS = ("09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00")


class Calendar:
    """The practice's appointment book. A real app would call its scheduling system here."""

    def __init__(self) -> None:
        self.bookings: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1001)

    def free_slots(self, day: dt.date) -> list[str]:
        if day.weekday() >= 5:  # closed at weekends
            return []
        taken = {b["time"] for b in self.bookings.values() if b["day"] == day.isoformat()}
        return [time for time in OPENING_HOURS if time not in taken]

    def book(self, day: dt.date, time: str, name: str, reason: str | None) -> str:
        booking_id = f"A-{next(self._ids)}"
        self.bookings[booking_id] = {"day": day.isoformat(), "time": time, "name": name, "reason": reason or ""}
        return booking_id

    def cancel(self, booking_id: str) -> None:
        self.bookings.pop(booking_id, None)


calendar = Calendar()

app = VNSApp(
    instructions=(
        "You are the scheduling assistant of Maple Street Dental. Help the caller book or cancel an appointment. "
        "Ask which day they would like, call check_availability, offer the free times, then call book_appointment "
        "with the time and the caller's name. Read back the day and time of the booking. "
        "When the caller is done, say goodbye and call end_conversation."
    ),
    voice="coral",
    end_conversation=True,
)


@app.on_call_start
async def tell_the_date(call: CallContext) -> None:
    # The model does not know today's date; "tomorrow" and "next Monday" need it.
    if call.session is not None:
        call.session.instructions = f"{call.session.instructions} Today is {dt.date.today():%A %B %d, %Y}."


@app.tool
async def check_availability(call: CallContext, day: dt.date) -> dict[str, Any]:
    """Lists the free appointment times on a day.

    Args:
        day: The day the caller wants, as YYYY-MM-DD.
    """
    if day < dt.date.today():
        raise ToolError("That day is in the past. Ask the caller for a day from today on.")
    slots = calendar.free_slots(day)
    call.state["day"] = day.isoformat()  # book_appointment books on the day offered last
    return {"day": day.isoformat(), "free_times": slots, "open": bool(slots)}


@app.tool
async def book_appointment(
    call: CallContext,
    time: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")],
    name: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Books an appointment at one of the free times that check_availability offered.

    Args:
        time: The time the caller chose, as HH:MM, for example 09:00.
        name: The caller's full name.
        reason: Why the caller wants to come in, if they said.
    """
    if "day" not in call.state:
        raise ToolError("Ask which day the caller wants and call check_availability first.")
    if "booking" in call.state:
        raise ToolError("This caller already has an appointment booked. Cancel it first to book another.")
    day = dt.date.fromisoformat(call.state["day"])
    if time not in calendar.free_slots(day):
        raise ToolError(f"{time} is not free on that day. Offer one of the free times instead.")
    booking_id = calendar.book(day, time, name, reason)
    call.state["booking"] = {"id": booking_id, "day": day.isoformat(), "time": time}
    return {"booked": True, "booking_id": booking_id, "day": day.isoformat(), "time": time, "name": name}


@app.tool
async def cancel_appointment(call: CallContext) -> dict[str, Any]:
    """Cancels the appointment booked earlier in this call."""
    booking = call.state.pop("booking", None)
    if booking is None:
        raise ToolError("Nothing has been booked in this call, so there is nothing to cancel.")
    calendar.cancel(booking["id"])
    return {"cancelled": True, "day": booking["day"], "time": booking["time"]}
