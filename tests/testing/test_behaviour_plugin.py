"""The behaviour fixtures, driven as a user drives them (pytester): vns_agent, vns_script, vns_judge."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

BEHAVIOUR = str(Path(__file__).parent / "behaviour")
TESTS = str(Path(__file__).parent.parent)

CONFTEST = f"""
import sys
sys.path[:0] = [{BEHAVIOUR!r}, {TESTS!r}]
import pytest
from behaviour_apps import booking_app, booking_script

@pytest.fixture
def vns_app():
    return booking_app([])
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In a process of its own: an inner session in this one would leave its event loop setup behind.
    return pytester.runpytest_subprocess(
        "-o", "asyncio_default_fixture_loop_scope=function", "-o", "asyncio_mode=auto", *args
    )


def test_the_agent_fixture_talks_to_the_script_and_a_failing_judge_reads_well(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        CONFTEST
        + """
from vns_sdk.testing.behaviour import StubJudge

@pytest.fixture
def vns_script():
    return booking_script()

@pytest.fixture
def vns_judge():
    return StubJudge({"confirms the time and the party size": "two"})
"""
    )
    pytester.makepyfile(
        test_agent="""
        async def test_booked(vns_agent):
            async with vns_agent.call() as call:
                expect = await call.say("A table for me and my wife")
                expect.tool("book_table", {"party_size": 2}, partial=True)
                await expect.reply().judge("confirms the time and the party size")

        async def test_judged(vns_agent):
            async with vns_agent.call() as call:
                expect = await call.say("A table for me and my friends")
                await expect.reply().judge("confirms the time and the party size")
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "    async def test_judged(vns_agent):",
            "*await expect.reply().judge(*",
            "E           vns_sdk.testing.behaviour.ExpectationFailed: Expected the reply to meet "
            "'confirms the time and the party size'",
            "E             but the judge said no: the reply never says 'two'",
            "E           The caller said 'A table for me and my friends'; the turn:",
            "E             caller: 'A table for me and my friends'",
            'E             ⚙ book_table {"party_size": 3, "day": "friday", "time": "19:00"}',
            'E               ← HTTP 200: {"booked": true, "table": 7, "party_size": 3, "day": "friday", '
            '"time": "19:00"}',
            'E             agent: "You\'re booked."',
            "",
            "test_agent.py:10: ExpectationFailed",
        ]
    )


def test_without_a_script_the_fixture_says_what_to_define(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_agent="async def test_it(vns_agent):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*The vns_agent fixture needs the model it talks to*"])
