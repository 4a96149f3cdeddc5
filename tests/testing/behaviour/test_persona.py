"""Persona scenarios run N times against the scripted model, with a stub caller and a stub judge."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from behaviour_apps import booking_app, booking_script

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.testing import replay
from vns_sdk.testing.behaviour import (
    Budget,
    PersonaScenario,
    Price,
    Spend,
    StubCaller,
    StubJudge,
    junit_xml,
    load_persona_scenario,
    run_persona,
    run_persona_scenarios,
)
from vns_sdk.testing.realtime import ScriptedRealtimeServer

BOOKING = {
    "name": "A couple books a table",
    "persona": "Ann, booking dinner for her and her husband.",
    "goal": "A table for two on Tuesday at 8 pm.",
    "max_turns": 4,
    "expect": {
        "tools": [{"name": "book_table", "arguments": {"party_size": 2}}],
        "not_called": ["lookup_name_or_phone"],
        "judge": ["confirms the time and the party size"],
        "ended": True,
    },
}


@pytest.fixture
async def realtime_url() -> AsyncIterator[str]:
    async with ScriptedRealtimeServer(booking_script()) as server:
        yield server.url()


@pytest.fixture
def judge() -> StubJudge:
    return StubJudge({"confirms the time and the party size": "two"})


async def test_a_run_that_meets_every_expectation(
    realtime_url: str, judge: StubJudge, booked: list[dict[str, Any]], tmp_path: Path
) -> None:
    caller = StubCaller(["Hi, a table for me and my wife please", "Great, bye"])
    scenario = PersonaScenario.from_dict(BOOKING)
    app = booking_app(booked)
    result = await run_persona(
        scenario, app=app, caller=caller, judge=judge, realtime_url=realtime_url, record=tmp_path, number=3
    )
    assert result.passed, result.problems
    assert result.conversation == [
        ("caller", "Hi, a table for me and my wife please"),
        ("agent", "Done: a table for two on Tuesday at 8 pm."),
        ("caller", "Great, bye"),
        ("agent", "Goodbye!"),
    ]
    assert result.end_reason == "agent" and booked[0]["party_size"] == 2
    # The caller heard the agent; the judge read the agent's words.
    assert caller.heard[1] == result.conversation[:2]
    assert judge.asked == [
        ("confirms the time and the party size", "Done: a table for two on Tuesday at 8 pm.\nGoodbye!")
    ]
    assert result.spend.tokens("agent")[0] > 0 and result.spend.dollars > 0
    assert result.transcript == tmp_path / "a-couple-books-a-table-run03.jsonl"
    assert replay(result.transcript, app=booking_app([])).ok


async def test_a_run_that_misses_says_why(realtime_url: str, judge: StubJudge, booked: list[dict[str, Any]]) -> None:
    caller = StubCaller(["Is Ron there?", "Then a table for me and three friends"])
    result = await run_persona(
        PersonaScenario.from_dict(BOOKING),
        app=booking_app(booked),
        caller=caller,
        judge=judge,
        realtime_url=realtime_url,
    )
    assert not result.passed and result.end_reason == "caller"
    assert result.problems == [
        "expected a call of book_table with {'party_size': 2}; the agent called: lookup_name_or_phone, book_table",
        "expected no call of lookup_name_or_phone, but the agent called it",
        "expected the agent to end the call, but the caller hung up",
        "judge: 'confirms the time and the party size': the reply never says 'two'",
    ]


async def test_mocks_of_the_scenario_answer_in_the_apps_place(
    realtime_url: str, judge: StubJudge, booked: list[dict[str, Any]]
) -> None:
    scenario = PersonaScenario.from_dict({**BOOKING, "mocks": {"book_table": {"fails": "Full on Tuesday."}}})
    caller = StubCaller(["me and my wife", "bye"])
    result = await run_persona(scenario, app=booking_app(booked), caller=caller, judge=judge, realtime_url=realtime_url)
    assert booked == [] and result.turns[0].tool_calls[0].reply == {
        "error": "tool_error",
        "message": "Full on Tuesday.",
    }


async def test_n_runs_give_a_pass_rate_and_junit_has_one_testcase_per_run(
    realtime_url: str, judge: StubJudge, booked: list[dict[str, Any]]
) -> None:
    # The caller says something different each run: the first two runs pass, the third does not.
    class Flaky(StubCaller):
        runs = 0

        async def next_line(self, **kwargs: Any) -> Any:
            if not kwargs["conversation"]:
                Flaky.runs += 1
                self.lines = ["me and my wife", "bye"] if Flaky.runs < 3 else ["me and my friends", "bye"]
            return await super().next_line(**kwargs)

    progress: list[tuple[int, bool]] = []
    [runs] = await run_persona_scenarios(
        [(PersonaScenario.from_dict(BOOKING), booking_app(booked))],
        runs=3,
        caller=Flaky([]),
        judge=judge,
        realtime_url=realtime_url,
        on_result=lambda result: progress.append((result.number, result.passed)),
    )
    assert progress == [(1, True), (2, True), (3, False)]
    assert (runs.ran, runs.passed, round(runs.rate, 3)) == (3, 2, 0.667)
    assert runs.reasons()[0][1] == 1
    document = ET.fromstring(junit_xml([runs]))
    assert (document.get("tests"), document.get("failures"), document.get("skipped")) == ("3", "1", "0")
    cases = document.findall("./testsuite/testcase")
    assert [case.get("name") for case in cases] == ["run 1", "run 2", "run 3"]
    failure = cases[2].find("failure")
    assert failure is not None and "book_table" in (failure.get("message") or "")


async def test_the_budget_stops_runs_before_they_pass_it(
    realtime_url: str, judge: StubJudge, booked: list[dict[str, Any]]
) -> None:
    # Ten cents an output token: a run's turns cost $2.40 and $1.10 (its dearest turn is $2.40). With $6,
    # the second run's first turn fits ($3.50 + $2.40) and its second does not ($5.90 + $2.40).
    budget = Budget(6.00, Spend({"gpt-realtime": Price(0.0, 100_000.0)}))
    [runs] = await run_persona_scenarios(
        [(PersonaScenario.from_dict(BOOKING), booking_app(booked))],
        runs=3,
        caller=StubCaller(["me and my wife", "bye"]),
        judge=judge,
        realtime_url=realtime_url,
        budget=budget,
    )
    assert budget.spend.dollars == pytest.approx(5.90)
    assert [result.stopped is None for result in runs.results] == [True, False, False]
    assert runs.results[1].stopped == "stopped before turn 2: the budget would be passed"
    assert runs.results[2].stopped == "not run: the budget was reached"
    assert runs.ran == 1 and runs.passed == 1
    document = ET.fromstring(junit_xml([runs]))
    assert document.get("skipped") == "2"


def test_a_scenario_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "booking.behaviour.yaml"
    path.write_text(
        "persona: Ann\ngoal: a table\nmax_turns: 3\nexpect:\n  tools: [book_table]\n  ended: true\n"
        "mocks:\n  book_table: {returns: {booked: true}}\n"
    )
    scenario = load_persona_scenario(path)
    assert (scenario.name, scenario.max_turns, scenario.ended) == ("booking", 3, True)
    assert scenario.tools[0].name == "book_table" and scenario.tool_mocks().tools["book_table"].kind == "returns"
    for text, message in [
        ("goal: x\n", "`persona:` is required"),
        ("persona: a\ngoal: b\nmax_turns: 0\n", "max_turns must be a whole number"),
        ("persona: a\ngoal: b\nexpect: {tool: [x]}\n", "unknown key(s) tool"),
        ("persona: a\ngoal: b\nmocks: {x: {explodes: true}}\n", "mocks: x: expected one of"),
        ("persona: [a\n", "not valid YAML"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigurationError) as error:
            load_persona_scenario(path)
        assert message in str(error.value)
