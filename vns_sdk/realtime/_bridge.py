"""`RealtimeBridge`: plays VNS between your app and the OpenAI Realtime model, so you can talk to your agent."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.realtime._call import BridgedCall, CallOptions, CallScope
from vns_sdk.realtime._events import BridgeEvent
from vns_sdk.realtime._recording import ConversationRecorder

__all__ = ["RealtimeBridge"]


class RealtimeBridge:
    """Talk to your agent through the real Realtime model (or a scripted one), with VNS's part played here.

    ```python
    bridge = RealtimeBridge(app)
    async with bridge.call(caller_id="3035550123") as call:
        turn = await call.say("Can you look up Ron?")
        print(turn.text, [tool.name for tool in turn.tool_calls])
    ```

    Args:
        app: The ASGI app to drive in process (a `VNSApp`, or an app mounting one).
        url: Instead of `app`, the base URL of a running app.
        webhook_token: The token VNS presents on CallStart/CallEnd (default: as `VNSSimulator` finds it).
        prefix: The app's route prefix (default: a `VNSApp`'s own, else ``/vns``).
        realtime_url: Connect here instead of the CallStart answer's ``aiUrl`` (a scripted server, say);
            the answer's headers still go with it.
        api_key: The OpenAI key when the answer carries none (default: ``OPENAI_API_KEY``).
        output_modalities: What the model answers in: text by default; None keeps the app's choice
            (audio, whose transcript is what you read).
        record: A transcript file to write afresh: the webhook exchanges and the conversation.
        validate: Check the CallStart answer as the simulator does (turn off for an answer its checks do
            not accept yet, such as a ``ws://`` ``aiUrl`` on loopback pointing at a scripted model).
        timeout: Seconds to wait for each webhook answer.
        connect_timeout: Seconds to wait for the Realtime connection and session.
        response_timeout: Seconds to wait for each response of the model.
        end_tools: The functions that end the call when the model calls them (VNS's ``end_conversation``).

    Use ``async with bridge:`` to run the app's lifespan once for several calls; otherwise each call runs
    it around itself.

    Attributes:
        simulator: The `VNSSimulator` that sends the webhooks (its ``exchanges`` hold every call's).
        options: The settings the calls run with.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        url: str | None = None,
        webhook_token: str | None = None,
        prefix: str | None = None,
        realtime_url: str | None = None,
        api_key: str | None = None,
        output_modalities: Sequence[str] | None = ("text",),
        record: str | os.PathLike[str] | None = None,
        validate: bool = True,
        timeout: float = 30.0,
        connect_timeout: float = 15.0,
        response_timeout: float = 60.0,
        end_tools: Sequence[str] = ("end_conversation",),
    ) -> None:
        missing = [name for name in ("openai", "websockets") if importlib.util.find_spec(name) is None]
        if missing:
            raise ConfigurationError(
                f"Talking to the Realtime model needs {' and '.join(missing)}: pip install 'vns-sdk[realtime]'"
            )
        from vns_sdk.testing import VNSSimulator

        self.simulator = VNSSimulator(
            app, url=url, webhook_token=webhook_token, prefix=prefix, record=record, validate=validate, timeout=timeout
        )
        self.options = CallOptions(
            realtime_url=realtime_url,
            api_key=api_key,
            output_modalities=list(output_modalities) if output_modalities is not None else None,
            recorder=ConversationRecorder(record) if record is not None else None,
            connect_timeout=connect_timeout,
            response_timeout=response_timeout,
            end_tools=tuple(end_tools),
        )

    def __repr__(self) -> str:
        where = f" realtime_url={self.options.realtime_url!r}" if self.options.realtime_url else ""
        return f"<RealtimeBridge {self.simulator!r}{where}>"

    def call(
        self,
        *,
        caller_id: str | None = None,
        caller_id_name: str | None = None,
        called_number: str | None = None,
        outbound: bool = False,
        customer_call_id: str | None = None,
        on_event: Callable[[BridgeEvent], None] | None = None,
    ) -> AbstractAsyncContextManager[BridgedCall]:
        """Place a call: CallStart, then the Realtime session; the call ends (CallEnd) when the block does.

        Args:
            caller_id: The calling number (default: a fictional one).
            caller_id_name: The caller's display name.
            called_number: The DID called.
            outbound: Simulate a call placed through the outbound API.
            customer_call_id: The customerCallId VNS sends.
            on_event: Called with each `BridgeEvent` as it happens (the agent's words as they stream, tool
                calls, the end).

        Raises:
            BridgeError: The Realtime session could not be opened (no key, a refused key, an unknown
                model, ...); the call was ended first, with an error status.
        """
        caller = {
            "caller_id": caller_id,
            "caller_id_name": caller_id_name,
            "called_number": called_number,
            "outbound": outbound,
            "customer_call_id": customer_call_id,
        }
        return CallScope(self.simulator.acall, caller, self.options, on_event)

    async def __aenter__(self) -> RealtimeBridge:
        await self.simulator.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.simulator.aclose()
