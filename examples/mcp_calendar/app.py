"""A receptionist whose tools come from an MCP server: the practice's calendar, as it already runs.

`app.include_mcp` lists the calendar server's tools (check_availability, book_appointment,
cancel_appointment) and offers them to the model among the app's own tools. VNS calls them at the app's
tools route like any other tool, so the app's authentication, logs and call state apply, and the app
passes each call on to the calendar server over MCP. If the server is down, the model is told so in words
it can say to the caller.

Run the calendar server, then the agent:

    python examples/mcp_calendar/calendar_server.py
    vns-sdk dev examples/mcp_calendar/app.py
"""

from __future__ import annotations

import datetime as dt
import os

from vns_sdk import CallContext, VNSApp

__all__ = ["app", "calendar"]

CALENDAR_URL = os.environ.get("CALENDAR_MCP_URL", "http://127.0.0.1:8001/mcp")
CALENDAR_TOKEN = os.environ.get("CALENDAR_MCP_TOKEN")

app = VNSApp(
    instructions=(
        "You are the receptionist of Maple Street Dental. Help the caller book or cancel an appointment. "
        "Ask which day they would like, call check_availability, offer the free times, then call "
        "book_appointment with the day, the time and the caller's name. Read back the day, the time and the "
        "booking id. When the caller is done, say goodbye and call end_conversation."
    ),
    end_conversation=True,
)

calendar = app.include_mcp(
    CALENDAR_URL,
    headers={"Authorization": f"Bearer {CALENDAR_TOKEN}"} if CALENDAR_TOKEN else None,
    allowed_tools=["check_availability", "book_appointment", "cancel_appointment"],
    timeout=5,
)
"""The calendar server's tools, as the app serves them (``calendar.tools``)."""


@app.tool
def practice_address() -> dict[str, str]:
    """Tells the caller where the practice is and how to get there."""
    return {"address": "12 Maple Street, Boulder, CO", "parking": "Free parking behind the building."}


@app.on_call_start
async def tell_the_date(call: CallContext) -> None:
    today = dt.date.today()
    call.session.instructions = f"{call.session.instructions} Today is {today:%A} {today.isoformat()}."
