"""Errors raised by vns-sdk.

Every error the SDK raises derives from one root, so ``except VNSError`` catches them all::

    VNSError
    ├── ConfigurationError        the app or client is missing a setting (a token, a URL)
    ├── InvalidToolSignature      a function cannot become a tool or a handler (raised at registration)
    ├── ToolError                 raised by a tool: its message is what the model hears
    ├── ToolArgumentsError        a tool's arguments did not validate (ValueError too)
    ├── CallRefused               raised by a CallStart handler to refuse the call
    ├── StateStoreError           the call-state store (Redis) could not be reached
    │   └── CallStateBusy         ... or another handler of the call held its state past this one's deadline
    ├── McpServerError            an MCP server whose tools the app serves could not be reached or listed
    ├── SimulationError           the app answered the test harness in a way VNS could not use (AssertionError too)
    └── VNSAPIError               the VNS outbound-call API failed
        ├── VNSStatusError        VNS answered with a non-zero status or an HTTP error
        └── VNSConnectionError    the request never got an answer
            └── VNSTimeoutError   ... because it timed out
"""

from __future__ import annotations

__all__ = [
    "CallRefused",
    "CallStateBusy",
    "ConfigurationError",
    "InvalidToolSignature",
    "McpServerError",
    "SimulationError",
    "StateStoreError",
    "ToolArgumentsError",
    "ToolError",
    "VNSAPIError",
    "VNSConnectionError",
    "VNSError",
    "VNSStatusError",
    "VNSTimeoutError",
]


class VNSError(Exception):
    """The root of every error vns-sdk raises."""


class ConfigurationError(VNSError, ValueError):
    """A required setting is missing or invalid; the message names the setting and how to set it."""


class InvalidToolSignature(VNSError, TypeError):
    """A function cannot be registered as a tool or a CallStart/CallEnd handler; the message says what to change."""


class ToolError(VNSError):
    """Raise from a tool to tell the model, in words it can speak, why the tool could not do its job.

    The message is sent to the model exactly as given, so write it for the caller's ears:

    ```python
    raise ToolError("There is no appointment free on that day. Offer the caller another day.")
    ```
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolArgumentsError(VNSError, ValueError):
    """The model called a tool with missing or wrong arguments.

    `invoke_tool` turns it into an ``invalid_arguments`` reply, so the model can ask the caller
    again or retry; `Tool.run` lets it out.

    Attributes:
        tool_name: The tool that was called.
        problems: One entry per problem, in plain words: ``{"argument": "<wire name>", "problem": "<text>"}``.
            The argument is the name the model uses (the alias), with a dotted path and ``[index]`` for
            nested values, for example ``"address.zip"`` or ``"items[2].quantity"``.
    """

    def __init__(self, tool_name: str, problems: list[dict[str, str]]) -> None:
        self.tool_name = tool_name
        self.problems = problems
        summary = "; ".join(f"{p['argument']} {p['problem']}" for p in problems)
        super().__init__(f"Invalid arguments for tool {tool_name!r}: {summary}")


class CallRefused(VNSError):
    """Raised by a CallStart handler (or through `CallContext.refuse`) to decline a call.

    The app answers the CallStart webhook with HTTP 403 and the reason, so VNS does not connect the call.
    """

    def __init__(self, reason: str = "The call was refused.") -> None:
        super().__init__(reason)
        self.reason = reason


class StateStoreError(VNSError):
    """The call-state store failed (for example, Redis is down)."""


class CallStateBusy(StateStoreError):
    """Another handler of the call held its state (the call's lease) until this one's deadline.

    The handlers of one call that use ``call.state`` run one after another; a handler that cannot get
    its turn in time is not run. The model then hears that the request could not be served in time.
    """


class McpServerError(VNSError):
    """An MCP server brought in with ``app.include_mcp`` could not be reached, or refused to list its tools.

    A tool call never raises it: the model hears that the tool's service is unavailable instead.
    """


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


class VNSAPIError(VNSError):
    """A request to the VNS web API failed."""


class VNSStatusError(VNSAPIError):
    """VNS answered, but with an error: a non-zero ``status`` or an HTTP error code.

    Attributes:
        status: VNS's ``status`` field, or the HTTP status code when the body had none.
        error_message: VNS's ``errorMessage``, or a summary of the HTTP error.
        http_status: The HTTP status code of the answer.
    """

    def __init__(self, status: int, error_message: str, *, http_status: int) -> None:
        super().__init__(f"VNS refused the request (status {status}): {error_message}")
        self.status = status
        self.error_message = error_message
        self.http_status = http_status


class VNSConnectionError(VNSAPIError):
    """The request to VNS got no answer (DNS, connection refused, reset, ...)."""


class VNSTimeoutError(VNSConnectionError):
    """The request to VNS timed out."""
