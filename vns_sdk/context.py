"""`CallContext`: what a tool or handler knows about the call it serves."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from vns_sdk.exceptions import CallRefused
from vns_sdk.state.base import CallParties, CallRecord, CallState

if TYPE_CHECKING:
    from vns_sdk.endpoint import RealtimeEndpoint
    from vns_sdk.models import CallEndRequest, CallStartRequest, RealtimeSession

__all__ = ["CallContext"]


@dataclass(eq=False)
class CallContext(CallParties):
    """The call a tool or handler is serving: its `CallParties` (who called whom), and more.

    Declare a parameter annotated `CallContext` (at any position) on a tool, a CallStart handler or a
    CallEnd handler, and vns-sdk passes it in; it never appears in a tool's schema.

    Attributes:
        session_guid: VNS's identifier of the call.
        customer_call_id: Your identifier of the call, if any. A CallStart handler may set it.
        caller_id: The calling number.
        caller_id_name: The caller's display name, when VNS has one.
        called_number: The number that was called (your DID, or the dialled number of an outbound call).
        outbound: ``True`` when the call was placed through the outbound API.
        state: A mutable mapping that lives for the whole call, shared by CallStart, every tool call
            and CallEnd, across workers when the app uses Redis. Values must be JSON-serializable. The
            handlers of a call that use it run one after another, each seeing what the one before saved.
        tool_name: The name of the tool being called (tool calls only).
        session: The Realtime session the call will run with (CallStart handlers only): change its
            instructions, voice or tools to tailor the call.
        max_seconds: The call's time limit. A CallStart handler may change it.
        request: The CallStart request (CallStart handlers only).
        report: The CallEnd report (CallEnd handlers only).
        deadline: `time.monotonic()` value by which the current handler must finish, if any.
        realtime: Where VNS opens this call's Realtime session (CallStart handlers only): replace it with
            another `RealtimeEndpoint` to send this call to another endpoint or bill another key.
        state_available: ``False`` when the call's state could not be read because the store was down (a
            CallEnd handler run during an outage): ``state`` is then empty, not the call's.
    """

    state: CallState = field(default_factory=CallState)
    tool_name: str | None = None
    session: RealtimeSession | None = None
    max_seconds: int = 300
    request: CallStartRequest | None = None
    report: CallEndRequest | None = None
    deadline: float | None = None
    realtime: RealtimeEndpoint | None = None
    state_available: bool = True

    @property
    def time_left(self) -> float | None:
        """Seconds left before the current handler's deadline (never negative), or ``None`` if it has none."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def refuse(self, reason: str = "The call was refused.") -> NoReturn:
        """Decline the call (CallStart handlers): VNS gets HTTP 403 with the reason and does not connect it."""
        raise CallRefused(reason)

    @classmethod
    def from_record(
        cls,
        record: CallRecord,
        state: CallState,
        *,
        tool_name: str | None = None,
        session: RealtimeSession | None = None,
        request: CallStartRequest | None = None,
        report: CallEndRequest | None = None,
        deadline: float | None = None,
        realtime: RealtimeEndpoint | None = None,
    ) -> CallContext:
        """The context of a call kept (or about to be kept) under ``record``, with its ``state``."""
        call = cls(
            session_guid=record.session_guid,
            customer_call_id=record.customer_call_id,
            caller_id=record.caller_id,
            caller_id_name=record.caller_id_name,
            called_number=record.called_number,
            outbound=record.outbound,
            state=state,
            tool_name=tool_name,
            max_seconds=record.max_seconds,
        )
        # Only what is given: a call with every keyword costs twice as much, and this runs on every tool call.
        if session is not None:
            call.session = session
        if request is not None:
            call.request = request
        if report is not None:
            call.report = report
        if deadline is not None:
            call.deadline = deadline
        if realtime is not None:
            call.realtime = realtime
        return call
