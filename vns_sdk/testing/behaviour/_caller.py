"""The simulated caller: someone with a persona and a goal, played by a model in text, or by a stub."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from vns_sdk.testing.behaviour._cost import TokenCount
from vns_sdk.testing.behaviour._openai_chat import OpenAIChat

__all__ = ["DEFAULT_CALLER_MODEL", "HANG_UP", "Caller", "CallerLine", "Line", "OpenAICaller", "StubCaller"]

DEFAULT_CALLER_MODEL = "gpt-4.1-mini"
HANG_UP = "[HANG UP]"
"""What the caller's model answers when it is done and puts the phone down."""

Line = tuple[Literal["caller", "agent"], str]
"""One line of the conversation: who spoke, and what they said."""

_INSTRUCTIONS = (
    "You are testing a phone agent by playing a caller. Stay in character. Persona: {persona}\n"
    "Your goal on this call: {goal}\n"
    "Each time, answer with only the words you say next, as short as a real caller would on the phone. "
    f"When your goal is met, or the agent cannot help, say goodbye; once the goodbyes are said, answer {HANG_UP}."
)


@dataclass(frozen=True)
class CallerLine:
    """What the caller says next.

    Attributes:
        text: The words, or None when the caller hangs up.
        usage: The tokens the caller's model used, if it used one.
    """

    text: str | None
    usage: TokenCount | None = None


@runtime_checkable
class Caller(Protocol):
    """Anything that plays the caller: `OpenAICaller`, `StubCaller`, or your own."""

    async def next_line(self, *, persona: str, goal: str, conversation: Sequence[Line]) -> CallerLine:
        """What the caller says after `conversation` (empty before the first line), or that it hangs up."""
        ...


class OpenAICaller(OpenAIChat):
    """A caller played by an OpenAI model through the ``openai`` package's chat completions API.

    Args:
        model: The model (default `DEFAULT_CALLER_MODEL`).
        api_key: The key (default: the ``openai`` package's own, ``OPENAI_API_KEY``).
        base_url: Another OpenAI-compatible endpoint.
        client: An ``openai.AsyncOpenAI`` to use instead of making one.
    """

    default_model = DEFAULT_CALLER_MODEL

    async def next_line(self, *, persona: str, goal: str, conversation: Sequence[Line]) -> CallerLine:
        """Ask the model for the caller's next words; `HANG_UP` (or nothing) means the caller hangs up."""
        # The model plays the caller: the agent's words are what it hears (user), its own are the caller's.
        messages: list[dict[str, str]] = [
            {"role": "system", "content": _INSTRUCTIONS.format(persona=persona, goal=goal)},
            {"role": "user", "content": "(The call is connected. You speak first.)"},
        ]
        for speaker, text in conversation:
            role = "assistant" if speaker == "caller" else "user"
            if messages[-1]["role"] == role:
                messages[-1]["content"] += "\n" + text
            else:
                messages.append({"role": role, "content": text})
        if messages[-1]["role"] == "assistant":
            messages.append({"role": "user", "content": "(silence)"})
        completion = await self.chat_client().chat.completions.create(model=self.model, messages=messages)
        usage = completion.usage
        count = TokenCount(
            self.model,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            purpose="caller",
        )
        text = (completion.choices[0].message.content or "").strip()
        words = text.replace(HANG_UP, "").strip()
        if not words:
            return CallerLine(None, count)
        return CallerLine(words, count)


class StubCaller:
    """A caller for tests of the harness itself: says its lines in order, then hangs up.

    Attributes:
        heard: The conversation as it stood each time the caller was asked.
    """

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        self.heard: list[list[Line]] = []

    def __repr__(self) -> str:
        return f"<StubCaller {len(self.lines)} lines>"

    async def next_line(self, *, persona: str, goal: str, conversation: Sequence[Line]) -> CallerLine:
        """The next line, or a hang-up once all are said."""
        said = sum(1 for speaker, _ in conversation if speaker == "caller")
        self.heard.append(list(conversation))
        return CallerLine(self.lines[said] if said < len(self.lines) else None)
