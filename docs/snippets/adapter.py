"""How each `defaultToolsUrlAdapter` form puts a tool call's metadata into the URL VNS calls."""

from __future__ import annotations

from vns_sdk.models import ToolsUrlAdapter

__all__ = ["BASE", "rendered"]

BASE = "https://agent.example.com/vns/tools"


def rendered(customer_call_id: str | None = "CallId-001") -> dict[str, str]:
    """Each documented form, rendered for one tool call."""
    return {
        form: ToolsUrlAdapter(form).render(
            BASE,
            tool_name="lookup_name_or_phone",
            session_guid="9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1",
            customer_call_id=customer_call_id,
        )
        for form in ToolsUrlAdapter.FORMS
    }


# --8<-- [start:render]
adapter = ToolsUrlAdapter("/<<toolname>>/<<customerCallId>>")
url = adapter.render(BASE, tool_name="lookup_name_or_phone", session_guid="9e6a...", customer_call_id="CallId-001")
assert url == "https://agent.example.com/vns/tools/lookup_name_or_phone/CallId-001"

meta = adapter.parse("/lookup_name_or_phone/", {})  # a null customerCallId arrives as an empty segment
assert (meta.tool_name, meta.customer_call_id) == ("lookup_name_or_phone", None)
# --8<-- [end:render]
