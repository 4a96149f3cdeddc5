"""Call state: a shopping cart that lives from CallStart through every tool call to CallEnd."""

from __future__ import annotations

from typing import Any

from vns_sdk import CallContext, VNSApp
from vns_sdk.models import CallEndRequest

__all__ = ["app", "orders", "store_hours", "whoami"]

orders: list[dict[str, Any]] = []

# --8<-- [start:cart]
app = VNSApp(instructions="You take grocery orders by phone.")


@app.on_call_start
async def open_cart(call: CallContext) -> None:
    call.state["cart"] = []


@app.tool
async def add_to_cart(call: CallContext, item: str, quantity: int = 1) -> dict[str, Any]:
    """Adds an item to the caller's order.

    Args:
        item: What to add.
        quantity: How many.
    """
    call.state["cart"].append({"item": item, "quantity": quantity})  # changed in place: saved too
    return {"cart": call.state["cart"]}


@app.on_call_end
async def place_order(call: CallContext, report: CallEndRequest) -> None:
    if call.state.get("cart"):
        orders.append({"caller": call.caller_id, "items": call.state["cart"]})


# --8<-- [end:cart]


# --8<-- [start:uses]
@app.tool
async def whoami(call: CallContext) -> dict[str, Any]:
    """Tells the agent who is calling."""
    return {"caller": call.caller_id}  # reads the call, never call.state: runs alongside the others


@app.tool(state=False)  # said outright: this tool never touches call.state
async def store_hours(call: CallContext, day: str) -> dict[str, Any]:
    """Tells the caller the opening hours of a day.

    Args:
        day: The day of the week.
    """
    return {"day": day, "open": "9:00", "close": "21:00", "store": call.called_number}


# --8<-- [end:uses]
