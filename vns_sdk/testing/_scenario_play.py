"""A scenario played: its call placed, every reply compared with the one expected, and the account of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from vns_sdk._exchange import Exchange, format_exchanges
from vns_sdk.exceptions import SimulationError
from vns_sdk.testing._assertions import differences
from vns_sdk.testing._scenario_file import Scenario, ScenarioStep
from vns_sdk.testing._sync_call import SimulatedCall

__all__ = ["ScenarioReport", "ScenarioResult", "play"]


@dataclass
class ScenarioResult:
    """How a scenario went.

    Attributes:
        scenario: The scenario run.
        problems: What went wrong, one readable entry per failed step (empty when it passed).
        exchanges: Every request of the call and its answer.
    """

    scenario: Scenario
    problems: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every step answered as expected."""
        return not self.problems

    def render(self, *, exchanges: bool = False) -> str:
        """A readable account: pass or fail, each problem, and optionally every exchange."""
        where = f" ({self.scenario.path})" if self.scenario.path else ""
        head = f"{'PASS' if self.ok else 'FAIL'}  {self.scenario.name}{where}"
        lines = [head, *(_indent(problem, "  ") for problem in self.problems)]
        if exchanges and self.exchanges:
            lines.append("  exchanges:")
            lines.append(_indent(format_exchanges(self.exchanges), "    "))
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise `SimulationError` with the report when the scenario failed."""
        __tracebackhide__ = True
        if not self.ok:
            raise SimulationError(self.render(exchanges=True))


@dataclass
class ScenarioReport:
    """The results of several scenarios: `ok` when all passed."""

    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every scenario passed (and there was at least one)."""
        return bool(self.results) and all(result.ok for result in self.results)

    def render(self, *, exchanges: bool = False) -> str:
        """Every scenario's result, then a count."""
        failed = sum(1 for result in self.results if not result.ok)
        lines = [result.render(exchanges=exchanges and not result.ok) for result in self.results]
        total = len(self.results)
        if not total:
            lines.append("No scenarios found.")
        else:
            lines.append(f"{total - failed} passed, {failed} failed." if failed else f"All {total} scenarios passed.")
        return "\n".join(lines)


def play(scenario: Scenario, place_call: Callable[..., AbstractContextManager[SimulatedCall]]) -> ScenarioResult:
    """Place the scenario's call and check every reply; failures are collected, not raised.

    Args:
        scenario: The scenario.
        place_call: What places the call, given the scenario's ``caller`` (a simulator's `VNSSimulator.call`).

    Returns:
        The result, with every exchange of the call.
    """
    result = ScenarioResult(scenario)
    caller = {key: value for key, value in scenario.caller.items() if key != "session_guid" or value}
    try:
        with place_call(**caller) as call:
            result.exchanges = call.exchanges
            if scenario.tools is not None:
                offered = list(call.tools)
                missing = [name for name in scenario.tools if name not in offered]
                extra = [name for name in offered if name not in scenario.tools]
                if missing or extra:
                    result.problems.append(
                        "The call does not offer the tools expected:"
                        + (f"\n  missing: {', '.join(missing)}" if missing else "")
                        + (f"\n  not expected: {', '.join(extra)}" if extra else "")
                    )
            for number, step in enumerate(scenario.steps, start=1):
                _run_step(call, number, step, result)
            ack = call.end(**scenario.end)
            lines = differences(ack, scenario.end_expect, partial=True)
            if lines:
                result.problems.append("CallEnd was not acknowledged as expected:\n" + _bullets(lines))
    except SimulationError as exc:
        result.problems.append(exc.message)
    return result


def _run_step(call: SimulatedCall, number: int, step: ScenarioStep, result: ScenarioResult) -> None:
    label = f"step {number}: {step.tool}({json.dumps(step.arguments, ensure_ascii=False)})"
    try:
        reply = call.invoke(step.tool, **step.arguments)
    except SimulationError as exc:
        result.problems.append(f"{label}\n{_indent(exc.message, '  ')}")
        return
    for expected, partial in ((step.expect, False), (step.expect_partial, True)):
        if expected is None:
            continue
        lines = differences(reply, expected, partial=partial)
        if lines:
            result.problems.append(
                f"{label} did not answer as expected{' (partial match)' if partial else ''}:\n"
                + _bullets(lines)
                + f"\n  reply: {json.dumps(reply, ensure_ascii=False)}"
            )


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
