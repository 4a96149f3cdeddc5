"""The whole idea on one screen: a voice agent with one tool, a CallStart and a CallEnd handler."""

from __future__ import annotations

# --8<-- [start:app]
from typing import Any

from vns_sdk import CallContext, ToolError, VNSApp
from vns_sdk.models import CallEndRequest

ORDERS = {"A100": "shipped", "A101": "being packed"}  # your order system
call_log: list[dict[str, Any]] = []  # your database

app = VNSApp(instructions="You are the friendly voice of Acme Shop. Help callers track their orders.")


@app.tool
async def order_status(call: CallContext, order_number: str) -> dict[str, Any]:
    """Tells where an order is.

    Args:
        order_number: The order number the caller reads out, like A100.
    """
    status = ORDERS.get(order_number.upper())
    if status is None:
        raise ToolError(f"There is no order {order_number}. Ask the caller to read the number again.")
    call.state["last_order"] = order_number
    return {"order_number": order_number, "status": status}


@app.on_call_start
async def greet(call: CallContext) -> None:
    if call.session is not None and call.caller_id_name:
        call.session.instructions = f"{call.session.instructions} The caller is {call.caller_id_name}."


@app.on_call_end
async def log_call(call: CallContext, report: CallEndRequest) -> None:
    call_log.append({"caller": call.caller_id, "order": call.state.get("last_order"), "status": report.status})


# --8<-- [end:app]

__all__ = ["ORDERS", "app", "call_log"]
