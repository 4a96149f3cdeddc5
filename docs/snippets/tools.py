"""Every way to declare a tool's parameters, with what the model sees and hears."""

from __future__ import annotations

import asyncio
import datetime as dt
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from vns_sdk import CallContext, ToolError, VNSApp

__all__ = ["Address", "Size", "app"]

app = VNSApp(instructions="You take pizza orders for Luigi's.")


# --8<-- [start:basic]
@app.tool
async def opening_hours(day: dt.date) -> dict[str, Any]:
    """Tells when the restaurant is open on a day.

    Args:
        day: The day the caller asks about.
    """
    if day.weekday() == 0:
        return {"open": False}
    return {"open": True, "from": "11:00", "to": "22:00"}


# --8<-- [end:basic]


# --8<-- [start:parameters]
class Size(str, Enum):
    SMALL = "small"
    LARGE = "large"


class Address(BaseModel):
    street: str
    city: str
    postcode: Annotated[str, Field(pattern=r"^\d{5}$")]


@app.tool
async def place_order(
    call: CallContext,  # the call: any position, any name, never in the schema
    pizza: Literal["margherita", "funghi", "diavola"],  # an enum of strings
    size: Size,  # an Enum works too
    quantity: Annotated[int, Field(ge=1, le=10)] = 1,  # constraints the model sees and the app checks
    delivery_address: Address | None = None,  # a nested object; optional because it has a default
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,  # a camelCase wire name
    extras: list[str] | None = None,
) -> dict[str, Any]:
    """Places an order for pizzas.

    Args:
        pizza: Which pizza.
        size: The size of the pizzas.
        quantity: How many pizzas.
        delivery_address: Where to deliver; leave out for pick-up.
        phone_number: A number to call back, in E.164 format like +13035551212.
        extras: Extra toppings, if the caller asks for any.
    """
    order = {"pizza": pizza, "size": size.value, "quantity": quantity, "delivery": delivery_address is not None}
    call.state.setdefault("orders", []).append(order)
    return {"order_number": len(call.state["orders"]), **order}


# --8<-- [end:parameters]


# --8<-- [start:sync]
@app.tool
def menu() -> list[str]:
    """Lists the pizzas on the menu."""
    return ["margherita", "funghi", "diavola"]  # a plain function runs in a worker thread


# --8<-- [end:sync]


# --8<-- [start:errors]
@app.tool
async def cancel_order(call: CallContext, order_number: int) -> dict[str, Any]:
    """Cancels one of the orders placed in this call.

    Args:
        order_number: The order number that place_order answered.
    """
    orders = call.state.get("orders", [])
    if not 1 <= order_number <= len(orders):
        # The model hears this sentence and can tell the caller.
        raise ToolError(f"There is no order number {order_number} in this call.")
    orders[order_number - 1]["cancelled"] = True
    return {"cancelled": order_number}


# --8<-- [end:errors]


# --8<-- [start:options]
@app.tool(name="check_oven", description="Says how long a fresh pizza takes right now.", timeout=2.0)
async def oven_wait_time(call: CallContext) -> dict[str, Any]:
    # call.time_left: the seconds left before this tool's timeout.
    budget = call.time_left or 2.0
    await asyncio.sleep(min(0.01, budget / 2))  # ask the kitchen system, within the budget
    return {"minutes": 20}


# --8<-- [end:options]
