"""The quickstart's agent: a bakery's phone assistant with one tool."""

from __future__ import annotations

from typing import Any, Literal

from vns_sdk import VNSApp

__all__ = ["HOURS", "app", "opening_hours"]

Day = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

HOURS: dict[str, str | None] = {
    "monday": None,
    "tuesday": "7:00 to 18:00",
    "wednesday": "7:00 to 18:00",
    "thursday": "7:00 to 18:00",
    "friday": "7:00 to 19:00",
    "saturday": "8:00 to 14:00",
    "sunday": None,
}

app = VNSApp(
    instructions=(
        "You are the phone assistant of Rosa's Bakery. Answer questions about the opening hours. "
        "When the caller is done, say goodbye and call end_conversation."
    ),
    voice="coral",
    end_conversation=True,
)


@app.tool
async def opening_hours(day: Day) -> dict[str, Any]:
    """Tells when the bakery is open on a day of the week.

    Args:
        day: The day of the week the caller asks about.
    """
    hours = HOURS[day]
    if hours is None:
        return {"day": day, "open": False}
    return {"day": day, "open": True, "hours": hours}
