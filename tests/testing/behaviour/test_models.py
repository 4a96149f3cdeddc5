"""The judge and the caller played by a model: the request sent, the answer read, the tokens counted.

An ``openai.AsyncOpenAI`` stand-in answers offline; the test marked ``openai`` asks the real models.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from vns_sdk.testing.behaviour import (
    HANG_UP,
    OpenAICaller,
    OpenAIJudge,
    TokenCount,
    load_persona_scenario,
    run_persona,
)

EXAMPLE = Path(__file__).parents[3] / "examples" / "lookup"


class FakeClient:
    """Answers each chat completion with the next of `answers`, and keeps the requests."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    async def create(self, **request: Any) -> Any:
        self.requests.append(request)
        message = SimpleNamespace(content=self.answers.pop(0))
        usage = SimpleNamespace(prompt_tokens=120, completion_tokens=15)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)], usage=usage)


async def test_the_openai_judge_asks_for_json_and_reads_the_verdict() -> None:
    client = FakeClient('{"pass": false, "reason": "It never says the party size."}', "not json")
    judge = OpenAIJudge("gpt-4.1-mini", client=client)
    verdict = await judge.judge("confirms the party size", reply="See you Tuesday.", conversation="Caller: hi")
    assert (verdict.passed, verdict.reason) == (False, "It never says the party size.")
    assert verdict.usage == TokenCount("gpt-4.1-mini", 120, 15, purpose="judge")
    request = client.requests[0]
    assert request["model"] == "gpt-4.1-mini" and request["response_format"] == {"type": "json_object"}
    assert "Criterion: confirms the party size" in request["messages"][1]["content"]
    garbled = await judge.judge("anything", reply="", conversation="")
    assert not garbled.passed and garbled.reason == "the judge did not answer as asked: 'not json'"


async def test_the_openai_caller_plays_the_persona_and_hangs_up() -> None:
    client = FakeClient("Hi, Ron's number please.", f"Thanks, bye. {HANG_UP}", HANG_UP)
    caller = OpenAICaller(client=client)
    first = await caller.next_line(persona="John", goal="Ron's number", conversation=[])
    assert first.text == "Hi, Ron's number please." and first.usage is not None and first.usage.purpose == "caller"
    said = [("caller", "Hi, Ron's number please."), ("agent", "It is 555 1212.")]
    assert (await caller.next_line(persona="John", goal="Ron's number", conversation=said)).text == "Thanks, bye."
    assert (await caller.next_line(persona="John", goal="Ron's number", conversation=said)).text is None
    messages = client.requests[1]["messages"]
    instructions = messages[0]["content"]
    assert "Persona: John" in instructions and "Your goal on this call: Ron's number" in instructions
    # The model plays the caller: its own lines are the assistant's, the agent's are what it hears.
    assert [message["role"] for message in messages[1:]] == ["user", "assistant", "user"]


@pytest.mark.openai
@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="talks to OpenAI: set OPENAI_API_KEY to run it")
async def test_the_lookup_persona_scenario_against_the_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "behaviour-test-token")
    scenario = load_persona_scenario(EXAMPLE / "behaviour" / "ron.behaviour.yaml")
    result = await run_persona(scenario, app=scenario.load_app(), caller=OpenAICaller(), judge=OpenAIJudge())
    assert result.passed, result.problems
    assert result.spend.tokens("caller")[0] > 0 and result.spend.tokens("judge")[0] > 0
