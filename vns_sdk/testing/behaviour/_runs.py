"""Running persona scenarios: a simulated caller talks to the agent, N times, within a budget.

Each run places a call through the bridge, lets the caller (a model, or a stub) speak until it hangs up,
the agent ends the call or the turn limit is reached, then checks the scenario's expectations: the
tools called and not called, the judge's criteria on the whole conversation, the call's end. Every
token is counted; with a budget, a run stops before a turn (or a judgement) would pass it.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vns_sdk.realtime import BridgedCall, RealtimeBridge, ToolCall, Turn
from vns_sdk.testing.behaviour._caller import Caller, Line
from vns_sdk.testing.behaviour._cost import Spend, TokenCount
from vns_sdk.testing.behaviour._expect import is_subset
from vns_sdk.testing.behaviour._judge import Judge
from vns_sdk.testing.behaviour._live import realtime_model
from vns_sdk.testing.behaviour._persona import ExpectedTool, PersonaScenario
from vns_sdk.testing.behaviour._report import conversation_text

__all__ = ["Budget", "RunResult", "ScenarioRuns", "run_persona", "run_persona_scenarios"]


class Budget:
    """A ceiling in dollars over many runs; a step is allowed while its likely cost still fits.

    The likely cost of a step is the dearest step of its kind so far (a caller's turn, a judgement).

    Attributes:
        spend: Everything counted so far, over all runs.
    """

    def __init__(self, max_dollars: float | None, spend: Spend | None = None) -> None:
        self.max_dollars = max_dollars
        self.spend = spend if spend is not None else Spend()
        self._costs: dict[str, list[float]] = {}

    def __repr__(self) -> str:
        ceiling = f"${self.max_dollars:.4f}" if self.max_dollars is not None else "no limit"
        return f"<Budget {ceiling}, ${self.spend.dollars:.4f} spent>"

    def allows(self, kind: str) -> bool:
        """Whether one more step of this kind fits in the budget."""
        if self.max_dollars is None:
            return True
        costs = self._costs.get(kind, [])
        likely = max(costs, default=0.0)
        return self.spend.dollars + likely <= self.max_dollars

    def note(self, kind: str, dollars: float) -> None:
        """Remember what a step of this kind cost."""
        self._costs.setdefault(kind, []).append(dollars)


@dataclass
class RunResult:
    """One run of a persona scenario.

    Attributes:
        scenario: The scenario.
        number: Which run (from 1).
        problems: The expectations it failed, each with its reason.
        stopped: Why it was cut short, if it was (the budget): such a run neither passes nor fails.
        conversation: What the caller and the agent said, in order.
        turns: The bridged turns (tool calls, replies, events).
        end_reason: How the call ended.
        spend: The tokens it used and their estimated cost.
        transcript: The transcript written, if recording.
        seconds: How long it took.
    """

    scenario: PersonaScenario
    number: int
    problems: list[str] = field(default_factory=list)
    stopped: str | None = None
    conversation: list[Line] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    end_reason: str | None = None
    spend: Spend = field(default_factory=Spend)
    transcript: Path | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether the run went all the way and met every expectation."""
        return self.stopped is None and not self.problems


@dataclass
class ScenarioRuns:
    """Every run of one scenario."""

    scenario: PersonaScenario
    results: list[RunResult] = field(default_factory=list)

    @property
    def ran(self) -> int:
        """Runs that went all the way (not stopped by the budget)."""
        return sum(1 for result in self.results if result.stopped is None)

    @property
    def passed(self) -> int:
        """Runs that passed."""
        return sum(1 for result in self.results if result.passed)

    @property
    def rate(self) -> float:
        """The pass rate over the runs that went all the way (0 when none did)."""
        return self.passed / self.ran if self.ran else 0.0

    @property
    def dollars(self) -> float:
        """The estimated cost of all runs."""
        return sum(result.spend.dollars for result in self.results)

    def reasons(self) -> list[tuple[str, int]]:
        """The reasons of failures, most frequent first."""
        return Counter(problem for result in self.results for problem in result.problems).most_common()


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-").lower() or "scenario"


async def run_persona(
    scenario: PersonaScenario,
    *,
    app: Any = None,
    url: str | None = None,
    caller: Caller,
    judge: Judge | None,
    realtime_url: str | None = None,
    record: str | Path | None = None,
    number: int = 1,
    budget: Budget | None = None,
    **bridge_options: Any,
) -> RunResult:
    """Run a persona scenario once and check its expectations.

    Args:
        scenario: The scenario.
        app: The app in process; or `url`, the base URL of a running one.
        url: The base URL of a running app, instead of `app`.
        caller: Who plays the caller.
        judge: Who judges the scenario's criteria (needed when it has some).
        realtime_url: Connect here instead of the CallStart answer's ``aiUrl`` (a scripted model).
        record: A folder to write the run's transcript to.
        number: Which run this is (for the transcript's name and reports).
        budget: The budget shared by all runs (the run stops before a step would pass it).
        **bridge_options: More arguments of `RealtimeBridge`.
    """
    result = RunResult(scenario, number)
    budget = budget if budget is not None else Budget(None)
    result.spend = Spend(budget.spend.prices)

    def count(tokens: TokenCount | None) -> None:
        if tokens is not None:
            result.spend.add(tokens)
            budget.spend.add(tokens)

    if record is not None:
        os.makedirs(record, exist_ok=True)
        result.transcript = Path(record) / f"{_slug(scenario.name)}-run{number:02d}.jsonl"
    started = time.monotonic()
    bridge = RealtimeBridge(app, url=url, realtime_url=realtime_url, record=result.transcript, **bridge_options)
    bridged: BridgedCall | None = None
    try:
        async with bridge.call(**scenario.caller) as bridged:
            bridged.tool_override = scenario.tool_mocks()
            model = realtime_model(bridged)
            for _ in range(scenario.max_turns):
                if not budget.allows("turn"):
                    result.stopped = f"stopped before turn {len(bridged.turns) + 1}: the budget would be passed"
                    break
                before = budget.spend.dollars
                line = await caller.next_line(
                    persona=scenario.persona, goal=scenario.goal, conversation=list(result.conversation)
                )
                count(line.usage)
                if line.text is None:
                    break
                result.conversation.append(("caller", line.text))
                turn = await bridged.say(line.text)
                count(TokenCount(model, turn.usage.input_tokens, turn.usage.output_tokens))
                result.conversation.append(("agent", turn.text))
                budget.note("turn", budget.spend.dollars - before)
                if bridged.ended:
                    break
    except Exception as exc:  # a failed call is a failed run, reported; the other runs go on
        message = getattr(exc, "message", None) or str(exc)
        result.problems.append(f"the call failed: {type(exc).__name__}: {message}")
    if bridged is not None:
        result.turns, result.end_reason = list(bridged.turns), bridged.end_reason
    if result.stopped is None and not result.problems:
        result.problems.extend(_check_tools(scenario, [call for turn in result.turns for call in turn.tool_calls]))
        result.problems.extend(_check_end(scenario, result.end_reason))
        await _judge(scenario, result, judge, budget, count)
    result.seconds = time.monotonic() - started
    return result


def _check_tools(scenario: PersonaScenario, calls: Sequence[ToolCall]) -> list[str]:
    problems = []
    used: set[int] = set()
    for expected in scenario.tools:
        found = next((index for index, call in enumerate(calls) if index not in used and _fits(expected, call)), None)
        if found is None:
            made = ", ".join(call.name for call in calls) or "none"
            wanted = expected.name + (f" with {expected.arguments}" if expected.arguments else "")
            problems.append(f"expected a call of {wanted}; the agent called: {made}")
        else:
            used.add(found)
    for name in scenario.not_called:
        if any(call.name == name for call in calls):
            problems.append(f"expected no call of {name}, but the agent called it")
    return problems


def _fits(expected: ExpectedTool, call: ToolCall) -> bool:
    return call.name == expected.name and (expected.arguments is None or is_subset(expected.arguments, call.arguments))


def _check_end(scenario: PersonaScenario, end_reason: str | None) -> list[str]:
    if scenario.ended is True and end_reason != "agent":
        how = "the caller hung up" if end_reason == "caller" else f"it ended by {end_reason}"
        return [f"expected the agent to end the call, but {how}"]
    if scenario.ended is False and end_reason == "agent":
        return ["expected the agent not to end the call, but it did"]
    return []


async def _judge(
    scenario: PersonaScenario,
    result: RunResult,
    judge: Judge | None,
    budget: Budget,
    count: Callable[[TokenCount | None], None],
) -> None:
    if scenario.judge and judge is None:
        result.problems.append("the scenario has judge criteria but no judge was given")
        return
    words = "\n".join(text for speaker, text in result.conversation if speaker == "agent")
    for criterion in scenario.judge:
        assert judge is not None
        if not budget.allows("judge"):
            result.stopped = "stopped before judging: the budget would be passed"
            return
        before = budget.spend.dollars
        verdict = await judge.judge(criterion, reply=words, conversation=conversation_text(result.turns))
        count(verdict.usage)
        budget.note("judge", budget.spend.dollars - before)
        if not verdict.passed:
            result.problems.append(f"judge: {criterion!r}: {verdict.reason}")


async def run_persona_scenarios(
    scenarios: Sequence[tuple[PersonaScenario, Any]],
    *,
    runs: int = 1,
    caller: Caller,
    judge: Judge | None,
    budget: Budget | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    **options: Any,
) -> list[ScenarioRuns]:
    """Run each scenario `runs` times, one run after another, within one budget.

    Args:
        scenarios: Each scenario with its app (or None with ``url=`` in `options`).
        runs: How many times to run each.
        caller: Who plays the caller.
        judge: Who judges the criteria.
        budget: The budget over all runs; once it is reached, the remaining runs are stopped, not run.
        on_result: Called with each run's result as it finishes (progress).
        **options: More arguments of `run_persona` (``url``, ``realtime_url``, ``record``, ...).
    """
    budget = budget if budget is not None else Budget(None)
    everything = []
    for scenario, app in scenarios:
        done = ScenarioRuns(scenario)
        for number in range(1, runs + 1):
            if not budget.allows("turn"):
                result = RunResult(scenario, number, stopped="not run: the budget was reached")
            else:
                result = await run_persona(
                    scenario, app=app, caller=caller, judge=judge, number=number, budget=budget, **options
                )
            done.results.append(result)
            if on_result is not None:
                on_result(result)
        everything.append(done)
    return everything
