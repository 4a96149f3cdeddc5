"""The home page's test: a whole call against the idea's app, offline."""

from __future__ import annotations

# --8<-- [start:test]
from shop import app, call_log

from vns_sdk.testing import VNSSimulator


def test_order_status() -> None:
    with VNSSimulator(app) as vns, vns.call(caller_id="3035550142", caller_id_name="Ada") as call:
        assert "The caller is Ada." in (call.instructions or "")
        assert call.invoke("order_status", order_number="A100") == {"order_number": "A100", "status": "shipped"}
        assert call.invoke("order_status", order_number="Z9")["error"] == "tool_error"
    # Leaving the block hangs up: VNS sends CallEnd, and the app's CallEnd handler ran.
    assert call_log[-1] == {"caller": "3035550142", "order": "A100", "status": 0}


# --8<-- [end:test]

__all__ = ["test_order_status"]
