"""Registering tools on the app: decorators, add_tool, tools=[...], routers, and the session they make."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.app.conftest import AppFactory, client_for, start_call, tools_base
from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.tools import ToolRouter


def hours(day: str) -> dict[str, str]:
    """Tells the caller the opening hours for a day.

    Args:
        day: The day of the week.
    """
    return {"day": day, "open": "9:00"}


async def test_every_way_of_registering_a_tool(make_app: AppFactory) -> None:
    billing = ToolRouter()

    @billing.tool
    async def balance(call: CallContext, account: str) -> dict[str, Any]:
        """Tells the caller the balance of an account.

        Args:
            account: The account number.
        """
        return {"account": account, "balance": 12.5, "caller": call.caller_id}

    app = make_app(lookup=False, end_conversation=False, tools=[hours, billing])

    @app.tool(name="slow_lookup", description="Looks something up slowly.", timeout=0.05)
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {}

    @app.tool
    def plain() -> str:
        """Returns a plain string."""
        return "plain"

    extra = ToolRouter()
    extra.add_tool(lambda: {"ok": True}, name="ping", description="Checks the line.")
    app.include_router(extra)
    assert list(app.tools) == ["hours", "balance", "slow_lookup", "plain", "ping"]
    assert app.build_session().tools is not None and len(app.build_session().tools or []) == 5
    with pytest.raises(InvalidToolSignature):
        app.add_tool(hours)  # the name is taken

    async with client_for(app) as http:
        answer = await start_call(http)
        url, headers = tools_base(answer)

        async def call(tool: str, **arguments: Any) -> Any:
            response = await http.post(f"{url}/{tool}", json=arguments, headers=headers)
            assert response.status_code == 200
            return response.json()

        assert [tool["name"] for tool in answer["session"]["tools"]] == list(app.tools)
        assert await call("hours", day="Monday") == {"day": "Monday", "open": "9:00"}
        assert await call("balance", account="A-1") == {"account": "A-1", "balance": 12.5, "caller": "3032639999"}
        assert (await call("slow_lookup"))["error"] == "timeout"
        assert await call("plain") == {"result": "plain"}
        assert await call("ping") == {"ok": True}
