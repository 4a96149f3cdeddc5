"""`SimulatedCall`: the sync face of a call in progress; it runs `AsyncSimulatedCall` in a background loop."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from vns_sdk._exchange import Exchange, format_exchanges
from vns_sdk.exceptions import SimulationError
from vns_sdk.testing._assertions import check_reply
from vns_sdk.testing._call import AsyncSimulatedCall

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from vns_sdk.models import CallStartResponse, FunctionTool, RealtimeSession

__all__ = ["CallScope", "SimulatedCall", "assert_tool_reply"]


class SimulatedCall:
    """A call in progress (sync API), placed by `VNSSimulator.call`. It mirrors `AsyncSimulatedCall`."""

    def __init__(self, core: AsyncSimulatedCall, portal: BlockingPortal) -> None:
        self.core = core
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self.core).replace("AsyncSimulatedCall", "SimulatedCall", 1)

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        try:
            return self._portal.call(functools.partial(fn, *args, **kwargs))
        except SimulationError as exc:
            # The frames of the background loop say nothing to the reader: show the test's own line.
            raise exc.with_traceback(None) from None

    @property
    def session_guid(self) -> str:
        """VNS's identifier of the call."""
        return self.core.session_guid

    @property
    def customer_call_id(self) -> str | None:
        """The customerCallId VNS carries into tool calls and CallEnd."""
        return self.core.customer_call_id

    @property
    def outbound(self) -> bool:
        """Whether the call was placed through the outbound API."""
        return self.core.outbound

    @property
    def request(self) -> dict[str, Any]:
        """The CallStart body that was sent (wire names)."""
        return self.core.request

    @property
    def response(self) -> CallStartResponse:
        """The CallStart answer, parsed."""
        return self.core.response

    @property
    def session(self) -> RealtimeSession:
        """The Realtime session the app configured for the call."""
        return self.core.session

    @property
    def instructions(self) -> str | None:
        """The instructions the model got."""
        return self.core.instructions

    @property
    def tools(self) -> dict[str, FunctionTool]:
        """The function tools offered to the model, by name."""
        return self.core.tools

    @property
    def max_seconds(self) -> int:
        """The call's time limit, in seconds."""
        return self.core.max_seconds

    @property
    def exchanges(self) -> list[Exchange]:
        """Every request of the call and its answer, in order."""
        return self.core.exchanges

    @property
    def ended(self) -> bool:
        """Whether CallEnd has been sent."""
        return self.core.ended

    @property
    def end_response(self) -> dict[str, Any] | None:
        """The CallEnd acknowledgement, once the call ended."""
        return self.core.end_response

    def invoke(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        """Call a tool as the model would, through VNS, and return the reply; see `AsyncSimulatedCall.invoke`."""
        __tracebackhide__ = True
        result: dict[str, Any] = self._run(self.core.invoke, tool, **arguments)
        return result

    def invoke_raw(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str | None] | None = None,
        body: Any = None,
        url: str | None = None,
    ) -> httpx.Response:
        """Send a tool call without any check; see `AsyncSimulatedCall.invoke_raw`."""
        response: httpx.Response = self._run(self.core.invoke_raw, tool, arguments, headers=headers, body=body, url=url)
        return response

    def tool_request(self, tool: str, arguments: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL and body VNS would send for this tool call."""
        return self.core.tool_request(tool, arguments)

    def model_event(self, reply: Mapping[str, Any], *, call_id: str | None = None) -> dict[str, Any]:
        """What the model receives for a tool reply; see `AsyncSimulatedCall.model_event`."""
        return self.core.model_event(reply, call_id=call_id)

    def assert_reply(
        self, tool: str, /, *, expect: Mapping[str, Any], partial: bool = False, **arguments: Any
    ) -> dict[str, Any]:
        """Call a tool and check its reply; see `AsyncSimulatedCall.assert_reply`."""
        __tracebackhide__ = True
        reply = self.invoke(tool, **arguments)
        check_reply(tool, arguments, reply, expect=expect, partial=partial)
        return reply

    def end(
        self,
        status: int = 0,
        error_message: str | None = None,
        *,
        call_referred_out: bool = False,
        transfers: list[Any] | None = None,
        outbound_call_result: dict[str, Any] | None = None,
        log_information: dict[str, Any] | None = None,
        connected: bool = True,
        duration: float | None = None,
    ) -> dict[str, Any]:
        """Hang up: send CallEnd and check the acknowledgement; see `AsyncSimulatedCall.end`."""
        __tracebackhide__ = True
        result: dict[str, Any] = self._run(
            self.core.end,
            status,
            error_message,
            call_referred_out=call_referred_out,
            transfers=transfers,
            outbound_call_result=outbound_call_result,
            log_information=log_information,
            connected=connected,
            duration=duration,
        )
        return result

    def format_exchanges(self) -> str:
        """The call's exchanges, printed readably."""
        return format_exchanges(self.exchanges)


class CallScope(AbstractContextManager[SimulatedCall]):
    """`VNSSimulator.call`: CallStart on entering, CallEnd on leaving (the frames stay out of tracebacks).

    Args:
        place: Makes the call, not yet started, when the block is entered.
    """

    def __init__(self, place: Callable[[], SimulatedCall]) -> None:
        self._place = place
        self._call: SimulatedCall | None = None

    def __enter__(self) -> SimulatedCall:
        __tracebackhide__ = True
        call = self._place()
        call._run(call.core.start)
        self._call = call
        return call

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        __tracebackhide__ = True
        call, self._call = self._call, None
        if call is None or call.ended:
            return
        if exc is None:
            call._run(call.core.end)
            return
        # The block's own failure matters more than the hang-up's.
        with suppress(Exception):
            call._run(call.core.end)


def assert_tool_reply(
    call: SimulatedCall,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    expect: Mapping[str, Any],
    partial: bool = False,
) -> dict[str, Any]:
    """Call a tool in a simulated call and assert its reply (a function form of `SimulatedCall.assert_reply`).

    Args:
        call: The simulated call.
        tool: The tool's name.
        arguments: The arguments the model sends (wire names).
        expect: The reply expected, or its part that matters with ``partial=True``.
        partial: Compare only the keys present in `expect`.

    Returns:
        The reply.
    """
    __tracebackhide__ = True
    given = dict(arguments or {})
    reply = call.invoke(tool, **given)
    check_reply(tool, given, reply, expect=expect, partial=partial)
    return reply
