"""The CallEnd webhook: the report VNS sends after a call, and the acknowledgement it expects."""

from __future__ import annotations

from typing import Any

from vns_sdk.models._base import Flag, SessionGuid, VNSModel
from vns_sdk.models.timestamps import DotNetTimestamp

__all__ = ["CallEndRequest", "CallEndResponse"]


class CallEndRequest(VNSModel):
    """The CallEnd webhook body: VNS POSTs it to your CallEnd URL after the call has ended.

    Timestamps come as .NET writes them (seven fractional digits, e.g. ``2026-03-20T02:43:39.6521589Z``);
    they are `datetime` values and dump back to the same text.

    Attributes:
        session_guid: Unique identifier of the voice session (wire `sessionGuid`).
        call_start: UTC time at which the call began.
        call_connected: UTC time at which the call connected, if it was answered.
        call_end: UTC time at which the call ended.
        called_number: The DID used for the call.
        caller_id: The originating or remote party's number.
        caller_id_name: The caller's display name, when available.
        status: The call's completion status code (0 for success).
        error_message: Error detail or status text.
        outbound_triggered: Whether the call was placed through the outbound API.
        outbound_call_result: Details of the outbound call's result, when applicable.
        customer_call_id: Your identifier of the call, if any.
        call_referred_out: Whether the call was referred or transferred out.
        transfers: Transfer records, if any occurred.
        log_information: Diagnostic or summary logging data.
    """

    session_guid: SessionGuid
    call_start: DotNetTimestamp | None = None
    call_connected: DotNetTimestamp | None = None
    call_end: DotNetTimestamp | None = None
    called_number: str | None = None
    caller_id: str | None = None
    caller_id_name: str | None = None
    status: int = 0
    error_message: str | None = None
    outbound_triggered: Flag = False
    outbound_call_result: dict[str, Any] | None = None
    customer_call_id: str | None = None
    call_referred_out: Flag = False
    transfers: list[Any] | None = None
    log_information: dict[str, Any] | None = None


class CallEndResponse(VNSModel):
    """The answer to the CallEnd webhook: ``{"status": 0, "errorMessage": "Success"}`` when all went well.

    Attributes:
        status: 0 for success, another code for a failure.
        error_message: ``"Success"`` or what went wrong.
    """

    status: int = 0
    error_message: str | None = "Success"

    @classmethod
    def success(cls) -> CallEndResponse:
        """The acknowledgement of a CallEnd handled well: ``{"status": 0, "errorMessage": "Success"}``."""
        return cls(status=0, error_message="Success")

    @classmethod
    def failure(cls, message: str, status: int = 1) -> CallEndResponse:
        """The answer to a CallEnd that could not be handled.

        Args:
            message: What went wrong (it must not contain secrets).
            status: A non-zero status code.

        Returns:
            The answer.
        """
        return cls(status=status, error_message=message)
