"""Per-turn expectations: the tools the agent called, their replies, its words, and whether the call ended.

```python
expect = await call.say("A table for me and my wife on Tuesday at 8")
expect.tool("book_table", {"party_size": 2}, partial=True).reply({"booked": True}, partial=True)
expect.reply().contains("Tuesday")
await expect.reply().judge("confirms the time and the party size")
expect.nothing_else()
```

Each expectation checks at once and raises `ExpectationFailed` with what the caller said, the events of
the turn, the expectation and why it failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from vns_sdk.realtime import EndReason, ToolCall, Turn
from vns_sdk.testing.behaviour._cost import Spend
from vns_sdk.testing.behaviour._judge import Judge, Verdict
from vns_sdk.testing.behaviour._report import conversation_text, describe_turn

__all__ = ["ExpectationFailed", "ReplyExpect", "ToolExpect", "TurnExpect", "is_subset"]


class ExpectationFailed(AssertionError):
    """An expectation on a turn was not met; the message says which, why, and what happened in the turn."""


ExpectationFailed.__module__ = "vns_sdk.testing.behaviour"  # as reports name it: the public home


def is_subset(expected: Any, actual: Any) -> bool:
    """Whether `actual` holds everything `expected` does (objects recursively; anything else equal)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def _matches(expected: Any, actual: Any, *, partial: bool) -> bool:
    return is_subset(expected, actual) if partial else bool(expected == actual)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class TurnExpect:
    """Expectations on one turn (what `BehaviourCall.say` returns; or ``TurnExpect(turn)`` for any bridged turn).

    Args:
        turn: The turn.
        judge: Who judges `ReplyExpect.judge` criteria.
        history: The turns before this one (the judge reads the whole conversation).
        spend: Where the judge's tokens are counted.

    Attributes:
        turn: The turn.
        verdicts: Each criterion judged, with its verdict.
    """

    def __init__(
        self,
        turn: Turn,
        *,
        judge: Judge | None = None,
        history: Sequence[Turn] = (),
        spend: Spend | None = None,
    ) -> None:
        self.turn = turn
        self.judge = judge
        self.history = list(history)
        self.spend = spend
        self.verdicts: list[tuple[str, Verdict]] = []
        self._matched: set[int] = set()

    def __repr__(self) -> str:
        return f"<TurnExpect {self.turn.caller!r}: {len(self.turn.tool_calls)} tool calls>"

    def fail(self, expectation: str, why: str) -> ExpectationFailed:
        """The error for an unmet expectation: which, why, and the turn's events."""
        return ExpectationFailed(
            f"Expected {expectation}\n  but {why}\nThe caller said {self.turn.caller!r}; the turn:\n"
            f"{describe_turn(self.turn)}"
        )

    # -- tools ---------------------------------------------------------------------------------------------

    def tool(self, name: str, arguments: Mapping[str, Any] | None = None, *, partial: bool = False) -> ToolExpect:
        """The agent called `name` (with these arguments: all of them, or with `partial` at least these).

        Each call satisfies one expectation: calling ``tool("x")`` twice expects two calls of ``x``.
        """
        __tracebackhide__ = True
        wanted = f"a call of {name}"
        if arguments:
            wanted += f" with {'at least ' if partial else ''}{_json(arguments)}"
        candidates = [
            (index, call)
            for index, call in enumerate(self.turn.tool_calls)
            if call.name == name and index not in self._matched
        ]
        for index, call in candidates:
            if arguments is None or _matches(dict(arguments), call.arguments, partial=partial):
                self._matched.add(index)
                return ToolExpect(self, call)
        if candidates:
            seen = "; ".join(_json(call.arguments) for _, call in candidates)
            raise self.fail(wanted, f"{name} was called with {seen}")
        called = ", ".join(call.name for call in self.turn.tool_calls) or "no tool"
        more = " more" if any(call.name == name for call in self.turn.tool_calls) else ""
        raise self.fail(wanted, f"no{more} such call was made (the agent called: {called})")

    def no_tool(self, name: str | None = None) -> TurnExpect:
        """The agent called no tool (or not `name`)."""
        __tracebackhide__ = True
        calls = [call for call in self.turn.tool_calls if name is None or call.name == name]
        if calls:
            raise self.fail(f"no call of {name or 'any tool'}", f"the agent called {_names(calls)}")
        return self

    def nothing_else(self) -> TurnExpect:
        """Every tool call of the turn was expected by `tool` (nothing else happened)."""
        __tracebackhide__ = True
        extra = [call for index, call in enumerate(self.turn.tool_calls) if index not in self._matched]
        if extra:
            raise self.fail("no other tool calls", f"the agent also called {_names(extra)}")
        return self

    # -- words and the end ---------------------------------------------------------------------------------

    def reply(self) -> ReplyExpect:
        """Expectations on the agent's words in this turn."""
        return ReplyExpect(self)

    def call_ended(self, by: EndReason | None = "agent") -> TurnExpect:
        """The call ended during the turn (by default, the agent ended it with ``end_conversation``)."""
        __tracebackhide__ = True
        who = f" by {by}" if by else ""
        if not self.turn.ended:
            raise self.fail(f"the call to end{who}", "it is still going")
        if by is not None and self.turn.end_reason != by:
            raise self.fail(f"the call to end{who}", f"it ended by {self.turn.end_reason}")
        return self

    def call_goes_on(self) -> TurnExpect:
        """The call did not end during the turn."""
        __tracebackhide__ = True
        if self.turn.ended:
            raise self.fail("the call to go on", f"it ended ({self.turn.end_reason})")
        return self


class ToolExpect:
    """Expectations on one tool call (from `TurnExpect.tool`).

    Attributes:
        call: The call.
    """

    def __init__(self, turn: TurnExpect, call: ToolCall) -> None:
        self._turn = turn
        self.call = call

    def __repr__(self) -> str:
        return f"<ToolExpect {self.call.name}>"

    def reply(self, expected: Any, *, partial: bool = False) -> ToolExpect:
        """The tool answered `expected` (all of it, or with `partial` at least these keys)."""
        __tracebackhide__ = True
        what = f"{self.call.name} to answer {'at least ' if partial else ''}{_json(expected)}"
        if self.call.reply is None and self.call.output is None:
            raise self._turn.fail(what, f"it was not run ({self.call.skipped or 'no reply'})")
        if not _matches(expected, self.call.reply, partial=partial):
            raise self._turn.fail(what, f"it answered {_json(self.call.reply)}")
        return self

    def succeeded(self) -> ToolExpect:
        """The tool ran and answered with no error (HTTP 200, no ``error`` key)."""
        __tracebackhide__ = True
        reply = self.call.reply
        if self.call.problem or (isinstance(reply, Mapping) and "error" in reply):
            why = self.call.problem or f"it answered an error: {_json(reply)}"
            raise self._turn.fail(f"{self.call.name} to succeed", why)
        return self


class ReplyExpect:
    """Expectations on the agent's words in one turn (from `TurnExpect.reply`)."""

    def __init__(self, turn: TurnExpect) -> None:
        self._turn = turn
        self.text = turn.turn.text

    def __repr__(self) -> str:
        return f"<ReplyExpect {self.text!r}>"

    def _said(self) -> str:
        return f"the agent said {self.text!r}" if self.text else "the agent said nothing"

    def contains(self, *words: str) -> ReplyExpect:
        """The words contain each of `words` (any case)."""
        __tracebackhide__ = True
        for word in words:
            if word.casefold() not in self.text.casefold():
                raise self._turn.fail(f"the reply to contain {word!r}", self._said())
        return self

    def not_contains(self, *words: str) -> ReplyExpect:
        """The words contain none of `words` (any case)."""
        __tracebackhide__ = True
        for word in words:
            if word.casefold() in self.text.casefold():
                raise self._turn.fail(f"the reply not to contain {word!r}", self._said())
        return self

    def matches(self, pattern: str | re.Pattern[str]) -> ReplyExpect:
        """The words match a regular expression (``re.search``; a string pattern ignores case)."""
        __tracebackhide__ = True
        compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.IGNORECASE)
        if compiled.search(self.text) is None:
            raise self._turn.fail(f"the reply to match /{compiled.pattern}/", self._said())
        return self

    async def judge(self, criterion: str) -> Verdict:
        """A judge decides whether the words meet `criterion`; on a fail its one-sentence reason is shown.

        Raises:
            ExpectationFailed: The judge said no.
            RuntimeError: No judge was given.
        """
        __tracebackhide__ = True
        expect = self._turn
        if expect.judge is None:
            raise RuntimeError("No judge: pass judge= (an OpenAIJudge, a StubJudge) or define the vns_judge fixture")
        conversation = conversation_text([*expect.history, expect.turn])
        verdict = await expect.judge.judge(criterion, reply=self.text, conversation=conversation)
        expect.verdicts.append((criterion, verdict))
        if expect.spend is not None and verdict.usage is not None:
            expect.spend.add(verdict.usage)
        if not verdict.passed:
            raise expect.fail(f"the reply to meet {criterion!r}", f"the judge said no: {verdict.reason}")
        return verdict


def _names(calls: Sequence[ToolCall]) -> str:
    return ", ".join(f"{call.name} {_json(call.arguments)}" for call in calls)
