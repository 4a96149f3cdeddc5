"""Ready-made tools. Opt in: ``VNSApp(end_conversation=True)`` or ``router.add_tool(end_conversation)``."""

from __future__ import annotations

from typing import Any

from vns_sdk.context import CallContext

__all__ = ["end_conversation"]


async def end_conversation(call: CallContext, user_input: str) -> dict[str, Any]:
    """If the user says something about ending the conversation, like goodbye, call a function
    to let the application know.

    Args:
        user_input: Input from the user indicating they want to end the conversation.
    """
    # The tool of the VNS spec, word for word, so the model knows it. It records that the AI ended the
    # call; CallEnd handlers read call.state["vns_ended_by_ai"] and call.state["vns_end_reason"].
    call.state["vns_ended_by_ai"] = True
    call.state["vns_end_reason"] = user_input
    return {"ended": True, "message": "Say a short, friendly goodbye to the caller now; the call is ending."}
