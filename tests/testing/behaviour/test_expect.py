"""Per-turn expectations against the scripted model: each passes when met and fails saying why."""

from __future__ import annotations

from typing import Any

import pytest
from behaviour_apps import booking_app, booking_script

from vns_sdk.testing.behaviour import BehaviourAgent, ExpectationFailed, StubJudge


async def test_a_turn_meets_every_kind_of_expectation(agent: BehaviourAgent, judge: StubJudge) -> None:
    async with agent.call() as call:
        expect = await call.say("A table for me and my wife on Tuesday at 8")
        booking = expect.tool("book_table", {"party_size": 2}, partial=True)
        booking.reply({"booked": True, "party_size": 2}, partial=True).succeeded()
        expect.reply().contains("Tuesday", "two").not_contains("Friday").matches(r"\b8 pm\b")
        verdict = await expect.reply().judge("confirms the time and the party size")
        expect.nothing_else().call_goes_on()
        assert verdict.passed and verdict.reason == "the reply says 'two'"
        assert judge.asked == [("confirms the time and the party size", "Done: a table for two on Tuesday at 8 pm.")]
        expect = await call.say("OK, bye")
        expect.tool("end_conversation").reply({"ended": True}, partial=True)
        expect.reply().contains("Goodbye")
        expect.call_ended()
    assert call.end_reason == "agent"


async def test_exact_arguments_and_a_second_call_of_the_same_tool(agent: BehaviourAgent) -> None:
    async with agent.call() as call:
        expect = await call.say("Me and my wife, please")
        expect.tool("book_table", {"party_size": 2, "day": "tuesday", "time": "20:00"})
        with pytest.raises(ExpectationFailed) as failed:
            expect.tool("book_table")
    assert str(failed.value).startswith(
        "Expected a call of book_table\n  but no more such call was made (the agent called: book_table)\n"
    )


async def test_wrong_arguments_say_what_was_sent_and_show_the_turn(agent: BehaviourAgent) -> None:
    async with agent.call() as call:
        expect = await call.say("A table for me and my wife")
        with pytest.raises(ExpectationFailed) as failed:
            expect.tool("book_table", {"party_size": 3}, partial=True)
    assert str(failed.value) == (
        'Expected a call of book_table with at least {"party_size": 3}\n'
        '  but book_table was called with {"party_size": 2, "day": "tuesday", "time": "20:00"}\n'
        "The caller said 'A table for me and my wife'; the turn:\n"
        "  caller: 'A table for me and my wife'\n"
        '  ⚙ book_table {"party_size": 2, "day": "tuesday", "time": "20:00"}\n'
        '    ← HTTP 200: {"booked": true, "table": 7, "party_size": 2, "day": "tuesday", "time": "20:00"}\n'
        "  agent: 'Done: a table for two on Tuesday at 8 pm.'"
    )


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda e: e.tool("lookup_name_or_phone"), "  but no such call was made (the agent called: book_table)"),
        (lambda e: e.no_tool(), '  but the agent called book_table {"party_size": 2'),
        (lambda e: e.nothing_else(), '  but the agent also called book_table {"party_size": 2'),
        (lambda e: e.reply().contains("Monday"), "  but the agent said 'Done: a table for two on Tuesday at 8 pm.'"),
        (lambda e: e.reply().not_contains("two"), "Expected the reply not to contain 'two'\n"),
        (lambda e: e.reply().matches(r"\d+ people"), "Expected the reply to match /\\d+ people/\n"),
        (lambda e: e.call_ended(), "Expected the call to end by agent\n  but it is still going\n"),
        (lambda e: e.tool("book_table").reply({"booked": False}), 'Expected book_table to answer {"booked": false}'),
    ],
)
async def test_each_expectation_fails_with_its_reason(agent: BehaviourAgent, check: Any, message: str) -> None:
    async with agent.call() as call:
        expect = await call.say("my wife and I")
        with pytest.raises(ExpectationFailed) as failed:
            check(expect)
    assert message in str(failed.value)
    assert "The caller said 'my wife and I'; the turn:\n  caller: 'my wife and I'\n" in str(failed.value)


async def test_a_failing_judge_shows_its_reason(agent: BehaviourAgent, judge: StubJudge) -> None:
    async with agent.call() as call:
        expect = await call.say("a table with friends")
        with pytest.raises(ExpectationFailed) as failed:
            await expect.reply().judge("confirms the time and the party size")
    assert str(failed.value).startswith(
        "Expected the reply to meet 'confirms the time and the party size'\n"
        "  but the judge said no: the reply never says 'two'\n"
        "The caller said 'a table with friends'; the turn:\n"
    )


async def test_the_judge_reads_the_conversation_so_far(booked: list[dict[str, Any]]) -> None:
    seen: list[str] = []

    class Recording(StubJudge):
        async def judge(self, criterion: str, *, reply: str, conversation: str) -> Any:
            seen.append(conversation)
            return await super().judge(criterion, reply=reply, conversation=conversation)

    agent = BehaviourAgent(booking_app(booked), script=booking_script(), judge=Recording())
    async with agent.call() as call:
        await call.say("Is Ron there?")
        expect = await call.say("And a table for me and my wife")
        await expect.reply().judge("anything")
    assert seen[0].startswith("Caller: Is Ron there?\n(The agent called lookup_name_or_phone")
    assert seen[0].endswith("Agent: Done: a table for two on Tuesday at 8 pm.")


async def test_no_judge_is_a_clear_error(booked: list[dict[str, Any]]) -> None:
    agent = BehaviourAgent(booking_app(booked), script=booking_script())
    async with agent.call() as call:
        expect = await call.say("hello")
        with pytest.raises(RuntimeError, match="No judge: pass judge="):
            await expect.reply().judge("is polite")


async def test_the_scripted_model_usage_is_counted_and_priced(agent: BehaviourAgent) -> None:
    async with agent.call() as call:
        await call.say("my wife and I")
    used_in, used_out = call.spend.tokens("agent")
    assert used_in > 0 and used_out > 0
    assert call.spend.dollars == pytest.approx((used_in * 4.00 + used_out * 16.00) / 1_000_000)
    assert agent.spend.tokens() == (used_in, used_out)
    assert call.spend.summary().startswith(f"tokens in+out: agent {used_in}+{used_out}; about $")
