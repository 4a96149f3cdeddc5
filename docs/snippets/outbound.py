"""Outbound calls: dial with a context, and read it back in the call."""

from __future__ import annotations

from typing import Any

from vns_sdk import CallContext, VNSApp, VNSClient

__all__ = ["app", "call_with_the_client", "remind"]

# --8<-- [start:app]
app = VNSApp(
    instructions="You call patients to remind them of their appointment and confirm they will come.",
    end_conversation=True,
)


@app.on_call_start
async def brief_the_agent(call: CallContext) -> None:
    if call.outbound and call.session is not None:
        # call.state holds the context given to app.dial for this call.
        when = call.state.get("appointment", "their appointment")
        call.session.instructions = f"{call.session.instructions} The appointment is {when}."


@app.tool
async def confirm_attendance(call: CallContext, coming: bool) -> dict[str, Any]:
    """Records whether the patient will come.

    Args:
        coming: True if the patient confirms, false if they cancel.
    """
    call.state["confirmed"] = coming
    return {"recorded": True, "patient": call.state.get("patient")}


def remind(patient: str, phone: str, appointment: str) -> None:
    answer = app.dial(
        phone,
        caller_id="7206999999",  # one of your DIDs
        caller_id_name="Maple Dental",
        context={"patient": patient, "appointment": appointment},  # -> call.state at CallStart
    )
    print(f"VNS accepted the call: status {answer.status}")


# --8<-- [end:app]


# --8<-- [start:client]
def call_with_the_client() -> None:
    # VNS_API_TOKEN (and VNS_API_URL) come from the environment.
    with VNSClient() as vns:
        answer = vns.dial("3032639999", caller_id="7206999999", caller_id_name="John Smith", customer_call_id="abc123")
    assert answer.ok  # a non-zero status raises VNSStatusError instead


# --8<-- [end:client]
