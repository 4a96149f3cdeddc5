"""Behaviour tests of the lookup agent: what it says and does, turn by turn, against a scripted model.

The scripted model (``vns_script``) stands in for OpenAI, so these run offline and cost nothing; the
judge is a stub (``vns_judge``). The persona scenario in ``behaviour/`` runs here with a stub caller;
``vns-sdk test examples/lookup/behaviour`` runs it against the real model, with a model as the caller.
The last test talks to the real model: it runs only with ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vns_sdk import VNSApp
from vns_sdk.testing.behaviour import (
    BehaviourAgent,
    ExpectationFailed,
    OpenAIJudge,
    StubCaller,
    StubJudge,
    Verdict,
    load_persona_scenario,
    run_persona,
)
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

from .app import create_app

RON_SCENARIO = Path(__file__).parent / "behaviour" / "ron.behaviour.yaml"


@pytest.fixture
def vns_app(monkeypatch: pytest.MonkeyPatch) -> VNSApp:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "lookup-example-token")
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY") or "sk-example-key-for-tests")
    return create_app()


def lookup_script() -> RealtimeScript:
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron Tanner").say("Ron Tanner's number is +1 303 555 1212.")
    script.when("Zelda").call("lookup_name_or_phone", name="Zelda").say("Sorry, I could not find Zelda.")
    script.when("bye").end_call("bye", goodbye="Goodbye!")
    script.otherwise().say("I can look up a name by a phone number, or a phone number by a name.")
    return script


@pytest.fixture
def vns_script() -> RealtimeScript:
    return lookup_script()


def no_number(criterion: str, reply: str) -> Verdict:
    if "555 1212" in reply:
        return Verdict(False, "the reply says '555 1212'")
    return Verdict(True, "the reply gives no number")


@pytest.fixture
def vns_judge() -> StubJudge:
    return StubJudge(
        {"reads back Ron's number": "555 1212", "says it found nobody": "could not find", "gives no number": no_number}
    )


async def test_ron_is_looked_up_and_his_number_read_back(vns_agent: BehaviourAgent) -> None:
    async with vns_agent.call() as call:
        expect = await call.say("Hi, what's Ron Tanner's number?")
        lookup = expect.tool("lookup_name_or_phone", {"name": "Ron Tanner"})
        lookup.reply({"contactFound": True, "phoneNumber": "+13035551212"}, partial=True)
        expect.reply().matches(r"303 555 1212")
        await expect.reply().judge("reads back Ron's number")
        expect.nothing_else()
        goodbye = await call.say("Thanks, bye")
        goodbye.tool("end_conversation")
        goodbye.call_ended()


async def test_nobody_found(vns_agent: BehaviourAgent) -> None:
    async with vns_agent.call() as call:
        expect = await call.say("Can you find Zelda?")
        expect.tool("lookup_name_or_phone").reply({"matchType": "name", "contactFound": False})
        await expect.reply().judge("says it found nobody")


async def test_a_mocked_directory_that_is_down(vns_agent: BehaviourAgent) -> None:
    vns_agent.mocks.fails("lookup_name_or_phone", "The directory is down.")
    async with vns_agent.call() as call:
        expect = await call.say("What's Ron's number?")
        expect.tool("lookup_name_or_phone").reply({"error": "tool_error"}, partial=True)
        # The scripted model reads a number it never got: this is what a judge is for.
        with pytest.raises(ExpectationFailed, match="the judge said no: the reply says '555 1212'"):
            await expect.reply().judge("gives no number")


async def test_the_persona_scenario_with_a_stub_caller(vns_app: VNSApp, vns_judge: StubJudge) -> None:
    scenario = load_persona_scenario(RON_SCENARIO)
    vns_judge.rules.update(
        {
            "reads back Ron Tanner's phone number": "555 1212",
            "never makes up a phone number that the lookup did not return": lambda criterion, reply: True,
        }
    )
    async with ScriptedRealtimeServer(lookup_script()) as server:
        result = await run_persona(
            scenario,
            app=vns_app,
            caller=StubCaller(["Hi. Ron Tanner's number?", "Got it, bye."]),
            judge=vns_judge,
            realtime_url=server.url(),
        )
    assert result.passed, result.problems
    assert result.end_reason == "agent" and result.spend.tokens("agent")[0] > 0


@pytest.mark.openai
@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="talks to OpenAI: set OPENAI_API_KEY to run it")
async def test_the_real_model_looks_up_ron(vns_app: VNSApp) -> None:
    agent = BehaviourAgent(vns_app, judge=OpenAIJudge())
    async with agent.call() as call:
        expect = await call.say("Hi, what's the phone number of Ron Tanner?")
        expect.tool("lookup_name_or_phone", {"name": "Ron Tanner"}, partial=True)
        expect.reply().matches(r"555.?1212")
        await expect.reply().judge("gives Ron Tanner's phone number")
    assert agent.spend.dollars > 0
