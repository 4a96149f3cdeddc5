"""Outbound calls: the dial request you send to the VNS API, and its answer."""

from __future__ import annotations

from vns_sdk.models._base import VNSModel

__all__ = ["OutboundCallRequest", "OutboundCallResponse"]


class OutboundCallRequest(VNSModel):
    """A request to VNS to dial a number; VNS then sends a CallStart with `outboundTriggered` true.

    Attributes:
        customer_call_id: Your identifier of the call; it comes back in the CallStart and CallEnd webhooks.
        called_number: The number to dial.
        caller_id: The caller ID number to present.
        caller_id_name: The caller ID name to present.
    """

    customer_call_id: str | None = None
    called_number: str
    caller_id: str
    caller_id_name: str | None = None


class OutboundCallResponse(VNSModel):
    """VNS's answer to a dial request. Any further field VNS returns (such as a session token) is kept.

    Attributes:
        status: 0 when VNS accepted the request.
        error_message: ``"Success"`` or what went wrong.
    """

    status: int
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether VNS accepted the request (status 0)."""
        return self.status == 0
