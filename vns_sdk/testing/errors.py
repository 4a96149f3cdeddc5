"""The error the test harness raises when an app does not behave as VNS needs it to."""

from __future__ import annotations

from vns_sdk.exceptions import VNSError

__all__ = ["SimulationError"]


class SimulationError(VNSError, AssertionError):
    """The app answered a simulated VNS request in a way VNS (or the model) could not use.

    It derives from `AssertionError`, so pytest reports it as a failed test (not an error) and shows
    the message, which says what was sent, what came back and what is wrong with it.

    Attributes:
        status: The HTTP status of the answer at fault, if there was one.
        body: The body of that answer (parsed JSON, or text), if there was one.
    """

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


# Shown in pytest's failure line; it is where users import it from.
SimulationError.__module__ = "vns_sdk.testing"
