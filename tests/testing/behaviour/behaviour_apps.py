"""The behaviour tests' agent and model: a booking agent, and the scripted model it talks to.

Imported by plain name (``from behaviour_apps import ...``), as ``tests/realtime`` imports ``bridge_apps``.
"""

from __future__ import annotations

from typing import Any

from support import lookup_tool

from vns_sdk import CallContext, VNSApp
from vns_sdk.testing.realtime import RealtimeScript

__all__ = ["KEY", "TOKEN", "booking_app", "booking_script"]

TOKEN = "whk-test-behaviour-token-0123456789"
KEY = "sk-test-behaviour-key-0123456789"


def booking_app(booked: list[dict[str, Any]]) -> VNSApp:
    """An agent that looks people up and books tables; each real booking lands in `booked`."""
    app = VNSApp(instructions="You book tables.", webhook_token=TOKEN, openai_api_key=KEY, end_conversation=True)
    app.add_tool(lookup_tool())

    @app.tool
    async def book_table(call: CallContext, party_size: int, day: str, time: str) -> dict[str, Any]:
        """Books a table.

        Args:
            party_size: How many people.
            day: The day.
            time: The time, like 20:00.
        """
        booking = {"party_size": party_size, "day": day, "time": time}
        booked.append(booking)
        return {"booked": True, "table": 7, **booking}

    return app


def booking_script() -> RealtimeScript:
    script = RealtimeScript()
    script.when("wife").call("book_table", party_size=2, day="tuesday", time="20:00").say(
        "Done: a table for two on Tuesday at 8 pm."
    )
    script.when("friends").call("book_table", party_size=3, day="friday", time="19:00").say("You're booked.")
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    script.when("bye").end_call("the caller said bye", goodbye="Goodbye!")
    script.otherwise().say("Sorry, could you say that again?")
    return script
