"""`end_conversation`: the VNS spec's own tool, ready to add."""

from __future__ import annotations

import json
from pathlib import Path

from vns_sdk.context import CallContext
from vns_sdk.tools import Tool, ToolRouter, end_conversation, invoke_tool

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"


def test_end_conversation_is_the_spec_tool() -> None:
    seed = json.loads((SPEC / "call_start_response.json").read_text())["session"]["tools"][0]
    assert Tool.from_function(end_conversation).to_dict() == seed
    assert seed["description"] == (
        "If the user says something about ending the conversation, like goodbye, call a function to let the "
        "application know."
    )


async def test_end_conversation_records_that_the_ai_ended_the_call() -> None:
    router = ToolRouter([end_conversation])
    call = CallContext(session_guid="g")
    reply = await invoke_tool(router, "end_conversation", {"user_input": "Thanks, bye!"}, call)
    assert reply.outcome == "ok"
    assert call.state["vns_ended_by_ai"] is True
    assert call.state["vns_end_reason"] == "Thanks, bye!"
    assert "goodbye" in reply.body["message"]
    updates, deleted = call.state.diff()
    assert set(updates) == {"vns_ended_by_ai", "vns_end_reason"} and not deleted


async def test_end_conversation_needs_the_user_input() -> None:
    reply = await invoke_tool(ToolRouter([end_conversation]), "end_conversation", {}, CallContext(session_guid="g"))
    assert reply.body["problems"] == [{"argument": "user_input", "problem": "is required but was not given"}]
