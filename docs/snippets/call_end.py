"""Reading the CallEnd report: how the call went, and what the call's state holds at the end."""

from __future__ import annotations

from typing import Any

from vns_sdk import CallContext, VNSApp
from vns_sdk.models import CallEndRequest

__all__ = ["app", "calls"]

app = VNSApp(instructions="You are a friendly agent.", end_conversation=True)
calls: list[dict[str, Any]] = []  # your database


# --8<-- [start:handler]
@app.on_call_end
async def save_call(call: CallContext, report: CallEndRequest) -> None:
    talked = None
    if report.call_connected and report.call_end:
        talked = (report.call_end - report.call_connected).total_seconds()
    calls.append(
        {
            "session_guid": report.session_guid,
            "caller": report.caller_id,
            "answered": report.call_connected is not None,
            "seconds": talked,
            "ok": report.status == 0,
            "error": report.error_message,
            "ended_by_agent": call.state.get("vns_ended_by_ai", False),  # set by end_conversation
            "transferred": report.call_referred_out,
        }
    )


# --8<-- [end:handler]
