"""`vns-sdk test` on persona scenarios: N runs, the pass-rate table, --min-pass, JUnit, the budget.

The Realtime model is the scripted one (``--realtime-url``); the caller and the judge are stubs named with
``--caller`` and ``--judge`` (module:attr references to a file written here).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

PLAYERS = """
from vns_sdk.testing.behaviour import StubCaller, StubJudge

RUNS = []


def caller():
    return StubCaller(["Is Ron there?", "Thanks, bye"])


judge = StubJudge({"reads back Ron's number": "555 1212", "is rude": lambda criterion, reply: False})
"""

SCENARIO = """
name: Ron by name
app: agent/app.py:app
persona: John, a busy contractor.
goal: Get Ron Tanner's number.
max_turns: 3
expect:
  tools: [{name: lookup_name_or_phone, arguments: {name: Ron}}]
  judge: ["reads back Ron's number"]
  ended: true
"""


@pytest.fixture
def server() -> Iterator[ScriptedRealtimeServer]:
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner: +1 303 555 1212.")
    script.when("bye").end_call("bye", goodbye="Goodbye!")
    with ScriptedRealtimeServer(script) as running:
        yield running


@pytest.fixture
def behave(
    run: Callable[..., Result], write: Callable[[str, str], Path], lookup_app: Path, server: ScriptedRealtimeServer
) -> Callable[..., Result]:
    write("players.py", PLAYERS)
    write("ron.behaviour.yaml", SCENARIO)

    def invoke(*args: str) -> Result:
        players = ("--caller", "players.py:caller", "--judge", "players.py:judge")
        return run("test", *args, "--realtime-url", server.url(), *players)

    return invoke


def test_n_runs_print_progress_and_a_table_and_write_junit(behave: Callable[..., Result], tmp_path: Path) -> None:
    result = behave("ron.behaviour.yaml", "--runs", "3", "--junit", "out/junit.xml", "--record", "runs")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("PASS  Ron by name  run ") == 3 and "run 3/3  $0.0" in out
    assert "scenario     passed  rate    cost\nRon by name   3/3    100%  $0.0" in out
    assert "tokens in+out: agent " in out and "JUnit XML: out/junit.xml" in out
    document = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert [case.get("name") for case in document.iter("testcase")] == ["run 1", "run 2", "run 3"]
    assert document.get("failures") == "0"
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == [
        f"ron-by-name-run0{number}.jsonl" for number in (1, 2, 3)
    ]


def test_a_failing_criterion_fails_below_the_threshold_with_its_reason(
    behave: Callable[..., Result], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("ron.behaviour.yaml", SCENARIO.replace("reads back Ron's number", "is rude"))
    result = behave("ron.behaviour.yaml", "--runs", "2", "--min-pass", "0.5", "--junit", "junit.xml")
    assert result.exit_code == 1, result.output
    assert "FAIL  Ron by name  run 1/2" in result.stdout
    assert "Ron by name   0/2      0%" in result.stdout
    assert "  2× judge: 'is rude': the rule failed" in result.stdout
    failures = [failure.get("message") for failure in ET.parse(tmp_path / "junit.xml").getroot().iter("failure")]
    assert failures == ["judge: 'is rude': the rule failed"] * 2


def test_the_pass_rate_threshold_decides_the_exit_code(
    behave: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    # The stub caller hangs up after its two lines: with max_turns 1 the agent never ends the call.
    write("ron.behaviour.yaml", SCENARIO.replace("max_turns: 3", "max_turns: 1"))
    assert behave("ron.behaviour.yaml", "--runs", "2", "--min-pass", "0").exit_code == 0
    failed = behave("ron.behaviour.yaml", "--runs", "2", "--min-pass", "0.8")
    assert failed.exit_code == 1
    assert "2× expected the agent to end the call, but the caller hung up" in failed.stdout


def test_max_cost_stops_before_the_budget_is_passed(behave: Callable[..., Result], tmp_path: Path) -> None:
    result = behave("ron.behaviour.yaml", "--runs", "5", "--max-cost", "0.0005", "--junit", "junit.xml")
    assert result.exit_code == 1, result.output
    assert "STOP  Ron by name  run 5/5  $0.0000  not run: the budget was reached" in result.stdout
    assert "Stopped at the budget of $0.00: some runs were not completed." in result.stdout
    document = ET.parse(tmp_path / "junit.xml").getroot()
    assert int(document.get("skipped") or 0) >= 1 and document.get("tests") == "5"


def test_without_a_key_or_stubs_it_says_what_is_needed(
    run: Callable[..., Result], write: Callable[[str, str], Path], lookup_app: Path
) -> None:
    write("ron.behaviour.yaml", SCENARIO)
    result = run("test", "ron.behaviour.yaml")
    assert result.exit_code == 2
    assert "persona scenarios need a model to play the caller and to judge: set OPENAI_API_KEY" in result.stderr


def test_beside_plain_scenarios_they_are_skipped_with_a_note_when_no_model_can_play(
    run: Callable[..., Result], write: Callable[[str, str], Path], lookup_app: Path
) -> None:
    write("scenarios/ron.behaviour.yaml", SCENARIO.replace("agent/app.py", "../agent/app.py"))
    write(
        "scenarios/ron.vns.yaml",
        "app: ../agent/app.py:app\nsteps:\n  - tool: lookup_name_or_phone\n    arguments: {name: Ron}\n",
    )
    result = run("test", "scenarios")
    assert result.exit_code == 0, result.output
    assert "1 persona scenario(s) skipped: persona scenarios need a model to play the caller" in result.stdout
    assert "The scenario passed." in result.stdout
