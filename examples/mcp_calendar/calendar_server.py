"""The practice's scheduling system as an MCP server, built with the official MCP SDK.

It stands in for the MCP server a business already runs for its calendar: the voice agent in `app.py` does
not reimplement it, it serves these tools to the model with ``app.include_mcp``. Any MCP client can use
the same server.

Run it (streamable HTTP on http://127.0.0.1:8001/mcp):

    python examples/mcp_calendar/calendar_server.py

With ``CALENDAR_MCP_TOKEN`` set, every request must carry ``Authorization: Bearer <that token>``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import itertools
import os
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OPENING_HOURS", "BOOKINGS", "http_app", "server"]

OPENING_HOURS = ("09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00")
BOOKINGS: dict[str, dict[str, str]] = {}
"""The appointment book, by booking id (a real server would keep it in a database)."""
_IDS = itertools.count(1001)

server = MCPServer(
    "maple-street-calendar",
    instructions="The appointment book of Maple Street Dental.",
    log_level="WARNING",
)


class Availability(BaseModel):
    day: str
    open: bool
    free_times: list[str]


def _day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{text!r} is not a date. Ask the caller for a day, like 2025-03-14.") from None
    if day < dt.date.today():
        raise ToolError("That day has passed. Ask the caller for a day from today on.")
    return day


@server.tool()
def check_availability(day: str = Field(description="The day, as YYYY-MM-DD.")) -> Availability:
    """Lists the free appointment times of a day. Closed at weekends."""
    date = _day(day)
    if date.weekday() >= 5:
        return Availability(day=day, open=False, free_times=[])
    taken = {booking["time"] for booking in BOOKINGS.values() if booking["day"] == day}
    return Availability(day=day, open=True, free_times=[time for time in OPENING_HOURS if time not in taken])


@server.tool()
def book_appointment(
    day: str = Field(description="The day, as YYYY-MM-DD."),
    time: str = Field(description="One of the free times check_availability gave, like 10:00."),
    name: str = Field(description="The caller's full name."),
    reason: str | None = Field(default=None, description="Why the caller is coming, if they said."),
) -> dict[str, Any]:
    """Books an appointment at a free time."""
    date = _day(day)
    if time not in OPENING_HOURS or date.weekday() >= 5:
        raise ToolError(f"The practice has no appointment at {time} on {day}. Offer a time check_availability gave.")
    if any(booking["day"] == day and booking["time"] == time for booking in BOOKINGS.values()):
        raise ToolError(f"{time} on {day} was just taken. Check availability again and offer another time.")
    booking_id = f"A-{next(_IDS)}"
    BOOKINGS[booking_id] = {"day": day, "time": time, "name": name, "reason": reason or ""}
    return {"booked": True, "booking_id": booking_id, "day": day, "time": time, "name": name}


@server.tool()
def cancel_appointment(booking_id: str = Field(description="The booking id, like A-1001.")) -> dict[str, Any]:
    """Cancels an appointment by its booking id."""
    if BOOKINGS.pop(booking_id, None) is None:
        raise ToolError(f"There is no appointment {booking_id}. Ask the caller for the booking id again.")
    return {"cancelled": True, "booking_id": booking_id}


def http_app(token: str | None = None) -> ASGIApp:
    """The server over streamable HTTP at ``/mcp``: stateless and answering JSON, so it scales out.

    Args:
        token: The bearer token every request must carry (none: open, for a local try).
    """
    app = server.streamable_http_app(json_response=True, stateless_http=True)
    if not token:
        return app
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            presented = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(presented, expected):
                await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(http_app(os.environ.get("CALENDAR_MCP_TOKEN")), host="127.0.0.1", port=8001)
