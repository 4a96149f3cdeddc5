"""Tailoring each call at CallStart: instructions, voice, tools, limits, state, refusing a call."""

from __future__ import annotations

from typing import Any

from vns_sdk import CallContext, VNSApp

__all__ = ["BLOCKED", "CUSTOMERS", "app"]

CUSTOMERS = {"3035550142": {"name": "Ada", "tier": "gold", "account": "AC-7"}}
BLOCKED = {"3035550199"}

# --8<-- [start:session]
app = VNSApp(
    instructions="You are the concierge of Acme Bank.",
    model="gpt-realtime",
    voice="marin",
    max_seconds=600,
    # Merged into the default telephony session: only what you give changes.
    session={
        "audio": {
            "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}},
            "output": {"speed": 1.1},
        },
        "max_output_tokens": 1024,
    },
    end_conversation=True,
)
# --8<-- [end:session]


@app.tool
async def transfer_money(call: CallContext, amount: float) -> dict[str, Any]:
    """Transfers money between the caller's accounts.

    Args:
        amount: The amount to transfer.
    """
    return {"transferred": amount, "account": call.state["account"]}


# --8<-- [start:handler]
@app.on_call_start
async def personalize(call: CallContext) -> None:
    if call.caller_id in BLOCKED:
        call.refuse("This number is blocked.")  # VNS gets HTTP 403 and does not connect the call

    customer = CUSTOMERS.get(call.caller_id or "")
    session = call.session
    if session is None:  # set in every CallStart handler; this tells the type checker
        return
    if customer is None:
        # Unknown callers get a shorter call and no money tools.
        call.max_seconds = 180
        session.tools = [tool for tool in session.tools or [] if getattr(tool, "name", None) != "transfer_money"]
        return

    session.instructions = f"{session.instructions} The caller is {customer['name']}, a {customer['tier']} client."
    if customer["tier"] == "gold" and session.audio and session.audio.output:
        session.audio.output.voice = "cedar"
    call.customer_call_id = f"{customer['account']}-{call.session_guid[:8]}"  # carried into tool calls and CallEnd
    call.state["account"] = customer["account"]  # every tool call of this call sees it


# --8<-- [end:handler]
