"""A value call.state cannot hold fails the test that stored it; in production it is a log line and the call goes on."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import httpx
import pytest

from vns_sdk import CallContext, VNSApp
from vns_sdk.exceptions import SimulationError
from vns_sdk.testing import VNSSimulator

pytest_plugins = ["pytester"]

TOKEN = "webhook-token-for-the-state-tests"


def build_app(seen: dict[str, Any] | None = None) -> VNSApp:
    """The app; its CallEnd handler copies the state it sees into ``seen``."""
    app = VNSApp(webhook_token=TOKEN, openai_api_key="sk-test")
    seen = {} if seen is None else seen

    @app.tool
    async def book(call: CallContext, day: str) -> dict[str, Any]:
        """Books a table.

        Args:
            day: The day, as YYYY-MM-DD.
        """
        call.state["party"] = 4
        call.state["day"] = datetime.date.fromisoformat(day)  # not JSON
        return {"booked": day}

    @app.tool
    async def remember(call: CallContext, value: str) -> dict[str, Any]:
        """Remembers a value.

        Args:
            value: What to remember.
        """
        call.state["value"] = value
        return {"ok": True}

    @app.on_call_end
    async def record(call: CallContext) -> None:
        seen.update(call.state.to_dict())

    return app


def test_a_tool_that_stores_what_the_state_cannot_hold_fails_under_the_simulator() -> None:
    simulator = VNSSimulator(build_app())
    with simulator.call() as call:
        assert call.invoke("remember", value="fine") == {"ok": True}
        with pytest.raises(SimulationError) as caught:
            call.invoke("book", day="2026-03-20")
    message = str(caught.value)
    assert "tool 'book'" in message and "'day' holds a date" in message
    assert "day.isoformat()" in message


def test_a_call_start_handler_that_stores_a_set_fails_under_the_simulator() -> None:
    app = build_app()

    @app.on_call_start
    async def tag(call: CallContext) -> None:
        call.state["tags"] = {"vip"}

    simulator = VNSSimulator(app)
    with pytest.raises(SimulationError, match=r"CallStart handler .*tag.*'tags' holds a set"), simulator.call():
        pass


async def test_in_production_the_model_still_gets_its_answer_and_the_rest_is_saved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: dict[str, Any] = {}
    app = build_app(seen)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent.test") as http:
        start = {"sessionGuid": "guid-1", "callerId": "3032639999", "calledNumber": "7206999999"}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        answer = (await http.post("/vns/call-start", json=start, headers=headers)).json()
        base = answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]
        body = {"VoiceElements_InvokeTool": {"toolName": "book", "sessionGuid": "guid-1"}, "day": "2026-03-20"}
        with caplog.at_level(logging.ERROR, logger="vns_sdk.app"):
            reply = await http.post(base["url"], json=body, headers=base["headers"])
        await http.post("/vns/call-end", json={"sessionGuid": "guid-1", "status": 0}, headers=headers)
    assert reply.status_code == 200 and reply.json() == {"booked": "2026-03-20"}
    assert "tool 'book'" in caplog.text and "'day' holds a date" in caplog.text
    assert seen == {"party": 4}  # every key that could be kept was


def test_the_pytest_plugin_fails_the_test_that_stored_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
        import datetime
        import pytest
        from vns_sdk import CallContext, VNSApp

        @pytest.fixture
        def vns_app():
            app = VNSApp(webhook_token={TOKEN!r}, openai_api_key="sk-test")

            @app.tool
            async def book(call: CallContext, day: str) -> dict:
                '''Books a table.

                Args:
                    day: The day.
                '''
                call.state["day"] = datetime.date.fromisoformat(day)
                return {{"booked": day}}

            return app
        """
    )
    pytester.makepyfile(
        test_booking="""
        def test_booking(vns):
            with vns.call() as call:
                call.invoke("book", day="2026-03-20")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tool 'book'*'day' holds a date*"])
