"""Tools grouped in routers, added to an app in one line, and tools added without a decorator."""

from __future__ import annotations

from typing import Any

# --8<-- [start:router]
from vns_sdk import ToolRouter, VNSApp

billing = ToolRouter()


@billing.tool
async def balance(account_number: str) -> dict[str, Any]:
    """Tells the balance of an account.

    Args:
        account_number: The caller's account number.
    """
    return {"account_number": account_number, "balance": "42.00"}


@billing.tool(name="pay_now", timeout=5.0)
async def take_payment(account_number: str, amount: float) -> dict[str, Any]:
    """Takes a payment.

    Args:
        account_number: The caller's account number.
        amount: The amount to pay.
    """
    return {"paid": amount}


app = VNSApp(instructions="You are the billing desk.", end_conversation=True)
app.include_router(billing)
# --8<-- [end:router]


# --8<-- [start:add_tool]
def store_hours() -> dict[str, str]:
    """Tells the store's opening hours."""
    return {"weekdays": "9-18", "saturday": "10-14"}


def where_is_the_store() -> str:
    """Tells the store's address."""
    return "12 Main Street"


app.add_tool(store_hours)
app.add_tool(where_is_the_store, name="store_address")

# or all at once: VNSApp(tools=[store_hours, billing, ...])
other = VNSApp(instructions="You are the front desk.", tools=[store_hours, billing])
# --8<-- [end:add_tool]

__all__ = ["app", "balance", "billing", "other", "store_hours", "take_payment", "where_is_the_store"]
