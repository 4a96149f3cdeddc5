"""Behaviour tests: what the agent says and does, turn by turn, judged, against simulated callers.

```python
from vns_sdk.testing.behaviour import BehaviourAgent, StubJudge
from vns_sdk.testing.realtime import RealtimeScript

script = RealtimeScript()
script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")

async def test_ron(app):
    agent = BehaviourAgent(app, script=script, judge=StubJudge())
    async with agent.call() as call:
        expect = await call.say("What's Ron's number?")
        expect.tool("lookup_name_or_phone", {"name": "Ron"}).reply({"contactFound": True}, partial=True)
        expect.reply().contains("555 1212")
        await expect.reply().judge("reads back Ron's number")
        expect.nothing_else()
```

Calls go through the bridge (`vns_sdk.realtime`): to a scripted model offline, or to the real one.
Tools can be mocked per test (`ToolMocks`); a judge (`OpenAIJudge`, or `StubJudge` in tests of tests)
decides criteria in words; persona scenarios (`PersonaScenario`) let a model play the caller, run N
times by ``vns-sdk test --runs N``. Every run counts its tokens and their estimated cost (`Spend`).
It needs the ``realtime`` extra (``pip install 'vns-sdk[realtime]'``).
"""

from __future__ import annotations

from vns_sdk.testing.behaviour._caller import (
    DEFAULT_CALLER_MODEL,
    HANG_UP,
    Caller,
    CallerLine,
    Line,
    OpenAICaller,
    StubCaller,
)
from vns_sdk.testing.behaviour._cost import PRICES, Price, Spend, TokenCount
from vns_sdk.testing.behaviour._expect import ExpectationFailed, ReplyExpect, ToolExpect, TurnExpect, is_subset
from vns_sdk.testing.behaviour._judge import DEFAULT_JUDGE_MODEL, Judge, OpenAIJudge, StubJudge, Verdict
from vns_sdk.testing.behaviour._junit import junit_xml, write_junit
from vns_sdk.testing.behaviour._live import BehaviourAgent, BehaviourCall
from vns_sdk.testing.behaviour._mocks import MOCKED_PATH, MockedTool, ToolMocks
from vns_sdk.testing.behaviour._persona import (
    PERSONA_SUFFIXES,
    ExpectedTool,
    PersonaScenario,
    find_persona_scenarios,
    is_persona_scenario,
    load_persona_scenario,
)
from vns_sdk.testing.behaviour._runs import Budget, RunResult, ScenarioRuns, run_persona, run_persona_scenarios

__all__ = [
    "DEFAULT_CALLER_MODEL",
    "DEFAULT_JUDGE_MODEL",
    "HANG_UP",
    "MOCKED_PATH",
    "PERSONA_SUFFIXES",
    "PRICES",
    "BehaviourAgent",
    "BehaviourCall",
    "Budget",
    "Caller",
    "CallerLine",
    "ExpectationFailed",
    "ExpectedTool",
    "Judge",
    "Line",
    "MockedTool",
    "OpenAICaller",
    "OpenAIJudge",
    "PersonaScenario",
    "Price",
    "ReplyExpect",
    "RunResult",
    "ScenarioRuns",
    "Spend",
    "StubCaller",
    "StubJudge",
    "TokenCount",
    "ToolExpect",
    "ToolMocks",
    "TurnExpect",
    "Verdict",
    "find_persona_scenarios",
    "is_persona_scenario",
    "is_subset",
    "junit_xml",
    "load_persona_scenario",
    "run_persona",
    "run_persona_scenarios",
    "write_junit",
]
