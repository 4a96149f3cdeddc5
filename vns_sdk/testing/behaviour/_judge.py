"""The judge: a model that says whether the agent's words meet a criterion, with a one-sentence reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from vns_sdk.testing.behaviour._cost import TokenCount
from vns_sdk.testing.behaviour._openai_chat import OpenAIChat

__all__ = ["DEFAULT_JUDGE_MODEL", "Judge", "OpenAIJudge", "StubJudge", "Verdict"]

DEFAULT_JUDGE_MODEL = "gpt-4.1-mini"

_INSTRUCTIONS = (
    "You judge a phone agent's behaviour in a test. You get the conversation so far, the agent's reply to "
    "judge, and one criterion. Decide whether the reply meets the criterion, strictly but literally: do not "
    "ask for more than the criterion says. Answer with a JSON object only: "
    '{"pass": true or false, "reason": "one sentence saying why, quoting the reply where it helps"}.'
)


@dataclass(frozen=True)
class Verdict:
    """A judge's answer.

    Attributes:
        passed: Whether the reply meets the criterion.
        reason: Why, in one sentence (shown when the expectation fails).
        usage: The tokens the judge used, if it used a model.
    """

    passed: bool
    reason: str
    usage: TokenCount | None = None


@runtime_checkable
class Judge(Protocol):
    """Anything that judges a reply: `OpenAIJudge`, `StubJudge`, or your own (another model, a rule)."""

    async def judge(self, criterion: str, *, reply: str, conversation: str) -> Verdict:
        """Whether `reply` (the agent's last words in `conversation`) meets `criterion`."""
        ...


class OpenAIJudge(OpenAIChat):
    """A judge played by an OpenAI model through the ``openai`` package's chat completions API.

    Args:
        model: The model (default `DEFAULT_JUDGE_MODEL`).
        api_key: The key (default: the ``openai`` package's own, ``OPENAI_API_KEY``).
        base_url: Another OpenAI-compatible endpoint (a gateway, Azure's v1 API).
        client: An ``openai.AsyncOpenAI`` to use instead of making one.
    """

    default_model = DEFAULT_JUDGE_MODEL

    async def judge(self, criterion: str, *, reply: str, conversation: str) -> Verdict:
        """Ask the model; a reply that is not the JSON asked for is a failed verdict saying so."""
        prompt = f"Conversation:\n{conversation}\n\nThe agent's reply to judge:\n{reply}\n\nCriterion: {criterion}"
        completion = await self.chat_client().chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": _INSTRUCTIONS}, {"role": "user", "content": prompt}],
            response_format={"type": "json_object"},
        )
        usage = completion.usage
        count = TokenCount(
            self.model,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            purpose="judge",
        )
        text = completion.choices[0].message.content or ""
        try:
            answer = json.loads(text)
            passed, reason = answer["pass"], str(answer["reason"])
        except (ValueError, KeyError, TypeError):
            return Verdict(False, f"the judge did not answer as asked: {text[:200]!r}", count)
        return Verdict(passed is True, reason, count)


Rule = Callable[[str, str], "Verdict | bool"]


class StubJudge:
    """A judge for tests of the harness itself: rules instead of a model, and a record of what it was asked.

    ```python
    judge = StubJudge({"confirms the party size": "two"})   # passes when the reply says "two"
    ```

    Args:
        rules: For each criterion, the words the reply must contain (any case), or a function of the
            criterion and the reply returning a `Verdict` or a bool.
        default: The verdict for a criterion with no rule.

    Attributes:
        asked: Each criterion asked, with the reply, in order.
    """

    def __init__(self, rules: Mapping[str, str | Rule] | None = None, *, default: bool = True) -> None:
        self.rules = dict(rules or {})
        self.default = default
        self.asked: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"<StubJudge {len(self.rules)} rules>"

    async def judge(self, criterion: str, *, reply: str, conversation: str) -> Verdict:
        """The rule's verdict (no tokens used)."""
        self.asked.append((criterion, reply))
        rule = self.rules.get(criterion)
        if rule is None:
            word = "passes" if self.default else "fails"
            return Verdict(self.default, f"no rule for this criterion: it {word} by default")
        if isinstance(rule, str):
            if rule.casefold() in reply.casefold():
                return Verdict(True, f"the reply says {rule!r}")
            return Verdict(False, f"the reply never says {rule!r}")
        verdict = rule(criterion, reply)
        if isinstance(verdict, Verdict):
            return verdict
        return Verdict(bool(verdict), "the rule " + ("passed" if verdict else "failed"))
