"""Mock tools: a call answers a tool in the app's place, so a behaviour test books nothing for real."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vns_sdk.testing.behaviour import MOCKED_PATH, BehaviourAgent, ExpectationFailed


async def test_a_mocked_tool_answers_and_the_app_books_nothing(
    agent: BehaviourAgent, booked: list[dict[str, Any]]
) -> None:
    agent.mocks.returns("book_table", {"booked": True, "table": 99})
    async with agent.call() as call:
        expect = await call.say("me and my wife")
        tool = expect.tool("book_table", {"party_size": 2}, partial=True).reply({"booked": True, "table": 99})
        expect.nothing_else()
    assert booked == []
    assert tool.call.path == MOCKED_PATH and json.loads(tool.call.output or "") == {"booked": True, "table": 99}
    assert [exchange.kind for exchange in call.bridged.exchanges] == ["call_start", "call_end"]
    assert agent.mocks.calls == [tool.call]


async def test_a_mock_can_compute_its_reply_from_the_arguments(agent: BehaviourAgent) -> None:
    agent.mocks.returns("book_table", lambda arguments: {"booked": True, "seats": arguments["party_size"]})
    async with agent.call() as call:
        expect = await call.say("a table with friends")
        expect.tool("book_table").reply({"booked": True, "seats": 3})


async def test_a_failing_tool_is_a_tool_error_the_model_hears(agent: BehaviourAgent) -> None:
    agent.mocks.fails("book_table", "We are full on Tuesday.")
    async with agent.call() as call:
        expect = await call.say("me and my wife")
        tool = expect.tool("book_table")
        tool.reply({"error": "tool_error", "message": "We are full on Tuesday."})
    assert json.loads(tool.call.output or "")["message"] == "We are full on Tuesday."


async def test_a_timed_out_tool_is_reported_and_heard(agent: BehaviourAgent, booked: list[dict[str, Any]]) -> None:
    agent.mocks.times_out("book_table")
    async with agent.call() as call:
        expect = await call.say("me and my wife")
        tool = expect.tool("book_table")
        assert tool.call.status is None and not tool.call.ran
        assert json.loads(tool.call.output or "")["error"] == "tool_timeout"
        with pytest.raises(ExpectationFailed) as failed:
            tool.succeeded()
    assert "  but the mocked tool timed out: the model heard a tool_timeout error\n" in str(failed.value)
    assert "    ✗ the mocked tool timed out" in str(failed.value)
    assert booked == []


async def test_other_tools_still_reach_the_app(agent: BehaviourAgent, booked: list[dict[str, Any]]) -> None:
    agent.mocks.returns("lookup_name_or_phone", {"contactFound": False})
    agent.mocks.remove("lookup_name_or_phone")
    async with agent.call() as call:
        (await call.say("Is Ron there?")).tool("lookup_name_or_phone").reply({"contactFound": True}, partial=True)
        (await call.say("me and my wife")).tool("book_table").reply({"booked": True, "table": 7}, partial=True)
    assert booked == [{"party_size": 2, "day": "tuesday", "time": "20:00"}]
