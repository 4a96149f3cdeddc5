"""`BehaviourAgent`: live calls to the app through the bridge, against the scripted model or the real one."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from vns_sdk.realtime import BridgedCall, EndReason, RealtimeBridge, Turn
from vns_sdk.testing.behaviour._cost import PRICES, Price, Spend, TokenCount
from vns_sdk.testing.behaviour._expect import TurnExpect
from vns_sdk.testing.behaviour._judge import Judge
from vns_sdk.testing.behaviour._mocks import ToolMocks

if TYPE_CHECKING:
    from vns_sdk.testing.realtime import RealtimeScript

__all__ = ["BehaviourAgent", "BehaviourCall"]


def realtime_model(call: BridgedCall) -> str:
    """The Realtime model of a call (for its price)."""
    target = call.target
    return (target.model if target is not None else None) or call.response.session.model or "gpt-realtime"


class BehaviourCall:
    """A live call in a behaviour test: say something as the caller, get the turn's expectations back.

    Attributes:
        bridged: The bridged call underneath (its turns, tool calls, usage, CallEnd).
        mocks: The tools answered in the app's place.
        spend: The tokens this call used (the model's and the judge's) and their estimated cost.
    """

    def __init__(self, bridged: BridgedCall, *, judge: Judge | None, mocks: ToolMocks, spend: Spend) -> None:
        self.bridged = bridged
        self.judge = judge
        self.mocks = mocks
        self.spend = spend
        bridged.tool_override = mocks

    def __repr__(self) -> str:
        return f"<BehaviourCall {self.bridged!r}>"

    @property
    def turns(self) -> list[Turn]:
        """What the caller said and what came of it, in order."""
        return self.bridged.turns

    @property
    def ended(self) -> bool:
        """Whether the call is over."""
        return self.bridged.ended

    @property
    def end_reason(self) -> EndReason | None:
        """Why the call ended, once it has."""
        return self.bridged.end_reason

    async def say(self, text: str) -> TurnExpect:
        """Say `text` as the caller; return the expectations of the turn that follows."""
        turn = await self.bridged.say(text)
        usage = turn.usage
        self.spend.add(TokenCount(realtime_model(self.bridged), usage.input_tokens, usage.output_tokens))
        return TurnExpect(turn, judge=self.judge, history=self.bridged.turns[:-1], spend=self.spend)

    async def hang_up(self) -> None:
        """The caller hangs up (CallEnd is sent); nothing if the call has already ended."""
        await self.bridged.hang_up()


class BehaviourAgent:
    """The app under test, called live through the bridge: against a scripted model, or the real one.

    ```python
    agent = BehaviourAgent(app, script=script, judge=StubJudge())
    async with agent.call() as call:
        expect = await call.say("What's Ron's number?")
        expect.tool("lookup_name_or_phone", {"name": "Ron"}).reply({"contactFound": True}, partial=True)
    ```

    Args:
        app: The app (a `VNSApp`, or an ASGI app mounting one).
        script: What a scripted model does (`vns_sdk.testing.realtime.RealtimeScript`); None talks to the
            model the CallStart answer names (the real one: it needs a key and costs money).
        realtime_url: Connect here instead (a scripted server of your own, a gateway).
        judge: Who judges ``expect.reply().judge(...)`` criteria.
        record: A folder to write each call's transcript to (replay it with ``vns-sdk replay``).
        prices: Model prices overriding `PRICES`, for the cost estimate.
        **bridge_options: More arguments of `RealtimeBridge` (``webhook_token``, ``response_timeout``, ...).

    Attributes:
        mocks: The tools every call answers in the app's place.
        spend: The tokens all calls used, and their estimated cost.
    """

    def __init__(
        self,
        app: Any,
        *,
        script: RealtimeScript | None = None,
        realtime_url: str | None = None,
        judge: Judge | None = None,
        record: str | os.PathLike[str] | None = None,
        prices: Mapping[str, Price] | None = None,
        **bridge_options: Any,
    ) -> None:
        self.app = app
        self.script = script
        self.realtime_url = realtime_url
        self.judge = judge
        self.record = record
        self.mocks = ToolMocks()
        self.prices = {**PRICES, **(prices or {})}
        self.spend = Spend(self.prices)
        self.bridge_options = bridge_options
        self._calls = 0

    def __repr__(self) -> str:
        model = "a scripted model" if self.script is not None else "the real model"
        return f"<BehaviourAgent against {model}>"

    def call(self, **caller: Any) -> AbstractAsyncContextManager[BehaviourCall]:
        """Place a call (CallStart, the Realtime session); it ends (CallEnd) when the block does.

        Args:
            **caller: The arguments of `RealtimeBridge.call` (``caller_id``, ``outbound``, ...).
        """
        return self._call(caller)

    @asynccontextmanager
    async def _call(self, caller: dict[str, Any]) -> AsyncIterator[BehaviourCall]:
        async with AsyncExitStack() as stack:
            url = self.realtime_url
            if self.script is not None and url is None:
                from vns_sdk.testing.realtime import ScriptedRealtimeServer

                server = await stack.enter_async_context(ScriptedRealtimeServer(self.script))
                url = server.url()
            self._calls += 1
            record = None
            if self.record is not None:
                os.makedirs(self.record, exist_ok=True)
                record = os.path.join(self.record, f"call-{self._calls:03d}.jsonl")
            bridge = RealtimeBridge(self.app, realtime_url=url, record=record, **self.bridge_options)
            bridged = await stack.enter_async_context(bridge.call(**caller))
            spend = Spend(self.prices)
            try:
                yield BehaviourCall(bridged, judge=self.judge, mocks=self.mocks, spend=spend)
            finally:
                self.spend.extend(spend)
