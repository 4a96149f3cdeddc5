"""What the model hears: the replies of the tools in tools.py, for each way a tool call can go."""

from __future__ import annotations

from typing import Any

__all__ = ["check_replies"]


def check_replies() -> dict[str, Any]:
    # --8<-- [start:replies]
    from tools import app

    from vns_sdk.testing import VNSSimulator

    # validate=False: send arguments the tool's schema rejects, as a confused model might.
    with VNSSimulator(app, validate=False) as vns, vns.call() as call:
        assert call.invoke("menu") == {"result": ["margherita", "funghi", "diavola"]}

        assert call.invoke("cancel_order", order_number=5) == {
            "error": "tool_error",
            "message": "There is no order number 5 in this call.",
        }

        reply = call.invoke("place_order", pizza="hawaii", size="small")
        assert reply["error"] == "invalid_arguments"
        assert reply["problems"] == [{"argument": "pizza", "problem": "should be 'margherita', 'funghi' or 'diavola'"}]
        assert reply["message"].startswith("The arguments for place_order were not valid: pizza should be")
    # --8<-- [end:replies]
    return reply
