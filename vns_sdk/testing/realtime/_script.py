"""`RealtimeScript`: what the scripted Realtime model does when the caller says something.

A script is a list of rules, tried in order against each thing the caller says; the first that matches
plays its responses, one per ``response.create`` the client sends in that turn. A response is what the
model would produce: words, function calls, or a fault (a cancelled, incomplete or failed response, an
``error`` event, a dropped connection).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FunctionCall", "RealtimeScript", "RuleBuilder", "ScriptRule", "ScriptedResponse", "Say"]

ResponseStatus = Literal["completed", "cancelled", "incomplete", "failed"]
ResponseAction = Literal["respond", "error", "drop"]


@dataclass(frozen=True)
class Say:
    """Words the model says (streamed as text, or as an audio transcript in an audio session)."""

    text: str


@dataclass(frozen=True)
class FunctionCall:
    """A function the model calls.

    Attributes:
        name: The function's name.
        arguments: The arguments, as a JSON object; or a string sent as it is (for arguments that are
            not valid JSON, as a model may send).
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)


@dataclass
class ScriptedResponse:
    """One response of the model, or what happens instead of it.

    Attributes:
        outputs: What the response holds, in order.
        status: How the response ends: ``completed``, ``cancelled``, ``incomplete`` or ``failed``.
        reason: The ``status_details.reason`` of a cancelled or incomplete response.
        error: The error of a failed response, or of the ``error`` event (``type``, ``code``, ``message``).
        delay: Seconds to wait before answering the ``response.create``.
        action: ``respond`` (a response), ``error`` (an ``error`` event instead), ``drop`` (close the
            connection abruptly instead).
    """

    outputs: list[Say | FunctionCall] = field(default_factory=list)
    status: ResponseStatus = "completed"
    reason: str | None = None
    error: dict[str, str | None] | None = None
    delay: float = 0.0
    action: ResponseAction = "respond"

    @property
    def calls_functions(self) -> bool:
        """Whether the response calls a function (the client answers it before the model goes on)."""
        return any(isinstance(output, FunctionCall) for output in self.outputs)


@dataclass
class ScriptRule:
    """When the caller says something that matches `when`, the model gives `responses`, one per request.

    Attributes:
        when: Words the caller's line must contain (case-insensitive), a regular expression it must
            match (``re.search``), or None to match anything.
        responses: The responses, in order: the first answers the caller's line, the next ones answer
            each ``response.create`` sent after the function outputs.
    """

    when: str | re.Pattern[str] | None
    responses: list[ScriptedResponse] = field(default_factory=list)

    def matches(self, words: str) -> bool:
        """Whether the caller's line triggers this rule."""
        if self.when is None:
            return True
        if isinstance(self.when, re.Pattern):
            return self.when.search(words) is not None
        return self.when.casefold() in words.casefold()

    def describe(self) -> str:
        """The rule's trigger, for messages."""
        if self.when is None:
            return "otherwise"
        if isinstance(self.when, re.Pattern):
            return f"when /{self.when.pattern}/"
        return f"when {self.when!r}"


class RealtimeScript:
    """What a `ScriptedRealtimeServer` answers: rules tried in order on each line the caller says.

    ```python
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    script.when("hold on").call("lookup_name_or_phone", name="Ron").cancel()
    script.when("bye").end_call("bye", goodbye="Goodbye!")
    script.otherwise().say("Sorry, could you say that again?")
    ```

    Each builder method returns the rule's builder, so a rule reads as one chain. A new response
    starts at the first step, after a response that calls a function (the model goes on only once it
    has the function's output), and at `RuleBuilder.wait`, `RuleBuilder.error` and `RuleBuilder.drop`.
    """

    def __init__(self) -> None:
        self.rules: list[ScriptRule] = []

    def __repr__(self) -> str:
        return f"<RealtimeScript {len(self.rules)} rules: {', '.join(rule.describe() for rule in self.rules)}>"

    def when(self, words: str | re.Pattern[str]) -> RuleBuilder:
        """Add a rule for a caller's line containing `words` (case-insensitive) or matching a pattern."""
        if isinstance(words, str) and not words.strip():
            raise ValueError("when() needs some words to look for; use otherwise() for a rule that matches anything")
        rule = ScriptRule(when=words)
        self.rules.append(rule)
        return RuleBuilder(rule)

    def otherwise(self) -> RuleBuilder:
        """Add a rule that matches any line (put it last: rules are tried in order)."""
        rule = ScriptRule(when=None)
        self.rules.append(rule)
        return RuleBuilder(rule)

    def rule_for(self, words: str) -> ScriptRule | None:
        """The first rule the caller's line triggers, if any."""
        return next((rule for rule in self.rules if rule.matches(words)), None)


class RuleBuilder:
    """Adds the responses of one `ScriptRule`; every method returns the builder, to chain."""

    def __init__(self, rule: ScriptRule) -> None:
        self.rule = rule

    def _current(self, *, together: bool = False) -> ScriptedResponse:
        responses = self.rule.responses
        last = responses[-1] if responses else None
        reusable = (
            last is not None
            and last.action == "respond"
            and last.status == "completed"
            and (together or not last.calls_functions)
        )
        if last is None or not reusable:
            last = ScriptedResponse()
            responses.append(last)
        return last

    def say(self, text: str) -> RuleBuilder:
        """The model says `text` (in the current response, or a new one after a function call)."""
        self._current().outputs.append(Say(text))
        return self

    def call(
        self, name: str, arguments: Mapping[str, Any] | str | None = None, /, *, together: bool = False, **kwargs: Any
    ) -> RuleBuilder:
        """The model calls a function, with `arguments` (a mapping, or raw text) or keyword arguments.

        Args:
            name: The function's name.
            arguments: The arguments as a mapping, or a string sent as it is (invalid JSON, say).
            together: Call it in the same response as the previous call (parallel calls); by default a
                second call comes in the response after the first one's output.
            **kwargs: The arguments, when `arguments` is not given.
        """
        if arguments is not None and kwargs:
            raise ValueError("call() takes the arguments as a mapping or as keywords, not both")
        self._current(together=together).outputs.append(
            FunctionCall(name, arguments if arguments is not None else kwargs)
        )
        return self

    def end_call(self, user_input: str = "goodbye", *, goodbye: str | None = "Goodbye!") -> RuleBuilder:
        """The model calls ``end_conversation`` (the VNS tool), then says `goodbye` after its output."""
        self.call("end_conversation", user_input=user_input)
        if goodbye is not None:
            self.say(goodbye)
        return self

    def cancel(self, reason: str = "turn_detected") -> RuleBuilder:
        """The current response ends cancelled (as when the caller talks over it): nothing in it counts."""
        self._finish("cancelled", reason)
        return self

    def incomplete(self, reason: str = "max_output_tokens") -> RuleBuilder:
        """The current response ends incomplete (out of output tokens, or cut by the content filter)."""
        self._finish("incomplete", reason)
        return self

    def fail(
        self, message: str = "The server had an error.", *, code: str | None = None, type: str = "server_error"
    ) -> RuleBuilder:
        """The current response ends failed with this error (``status_details.error``)."""
        response = self._finish("failed", None)
        response.error = {"type": type, "code": code, "message": message}
        return self

    def error(self, message: str, *, code: str | None = None, type: str = "invalid_request_error") -> RuleBuilder:
        """Instead of a response, the server sends an ``error`` event (a rate limit, say)."""
        self.rule.responses.append(
            ScriptedResponse(action="error", error={"type": type, "code": code, "message": message})
        )
        return self

    def drop(self) -> RuleBuilder:
        """Instead of a response, the server drops the connection (no close handshake)."""
        self.rule.responses.append(ScriptedResponse(action="drop"))
        return self

    def wait(self, seconds: float) -> RuleBuilder:
        """The next response comes after `seconds` (it starts here)."""
        if seconds < 0:
            raise ValueError("wait() takes a number of seconds >= 0")
        self.rule.responses.append(ScriptedResponse(delay=seconds))
        return self

    def _finish(self, status: ResponseStatus, reason: str | None) -> ScriptedResponse:
        responses = self.rule.responses
        if responses and responses[-1].action == "respond" and responses[-1].status == "completed":
            response = responses[-1]
        else:
            response = ScriptedResponse()
            responses.append(response)
        response.status = status
        response.reason = reason
        return response
