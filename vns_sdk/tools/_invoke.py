"""Run a tool for the model and build what it hears back: `invoke_tool` and its `ToolReply`.

Whatever happens, the model gets a JSON object it can act on (the app sends it with HTTP 200, since
what VNS does with an error status is unknown):

| outcome             | when                                   | body                                              |
|---------------------|----------------------------------------|---------------------------------------------------|
| `ok`                | the tool returned                      | its value; a non-object as `{"result": ...}`      |
| `invalid_arguments` | the arguments do not fit the signature | `error`, `message`, `problems`                    |
| `tool_error`        | the tool raised `ToolError("...")`     | `error`, `message` (exactly the tool's text)      |
| `error`             | the tool raised anything else          | `error`, `message` (generic; traceback logged)    |
| `unknown_tool`      | no tool has that name                  | `error`, `message`, `available_tools`             |
| `timeout`           | the tool ran past its timeout          | `error`, `message`                                |

An async tool that runs out of time is cancelled. A sync tool runs in a worker thread, which Python
cannot stop: the model is answered on time, the thread runs on in the background and its result is
dropped. Make slow sync tools async, or give their own I/O a timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from vns_sdk._deadline import DeadlineExceeded, run_until
from vns_sdk._observe import _events
from vns_sdk.exceptions import ToolArgumentsError, ToolError
from vns_sdk.tools._results import is_plain, to_jsonable

if TYPE_CHECKING:
    from vns_sdk.context import CallContext
    from vns_sdk.tools._router import ToolRouter

__all__ = ["ToolOutcome", "ToolReply", "invoke_tool", "invoke_tool_body"]

logger = logging.getLogger("vns_sdk.tools")

ToolOutcome = Literal["ok", "invalid_arguments", "tool_error", "error", "unknown_tool", "timeout"]


@dataclass(frozen=True, slots=True)
class ToolReply:
    """What the model hears after a tool call.

    Attributes:
        body: The JSON object to send back (HTTP 200 in every case).
        outcome: ``"ok"``, or why it is not: ``"invalid_arguments"``, ``"tool_error"``, ``"error"``,
            ``"unknown_tool"``, ``"timeout"``. Error bodies carry the same value in ``body["error"]``.
    """

    body: dict[str, Any]
    outcome: ToolOutcome = "ok"

    @property
    def ok(self) -> bool:
        """``True`` when the tool ran and returned."""
        return self.outcome == "ok"


def _failure(outcome: ToolOutcome, message: str, **extra: Any) -> tuple[dict[str, Any], ToolOutcome]:
    return {"error": outcome, "message": message, **extra}, outcome


async def invoke_tool(
    router: ToolRouter,
    name: str,
    arguments: Mapping[str, Any],
    call: CallContext,
    *,
    default_timeout: float | None = 10.0,
) -> ToolReply:
    """Run the tool the model called and build the reply it hears. Never raises for a tool's problems.

    Sets ``call.tool_name`` and ``call.deadline`` (so the tool sees ``call.time_left``), validates the
    arguments, runs the tool (sync tools in a worker thread) within its timeout, and turns the result
    into JSON.

    Args:
        router: The tools.
        name: The tool the model called.
        arguments: The arguments it sent (wire names); object and list arguments sent as JSON text
            are parsed first.
        call: The call the tool serves.
        default_timeout: Seconds a tool without its own timeout may run; ``None`` for no limit.

    Returns:
        The reply; send ``reply.body`` as JSON with HTTP 200.
    """
    body, outcome = await invoke_tool_body(router, name, arguments, call, default_timeout)
    return ToolReply(body, outcome)


async def invoke_tool_body(
    router: ToolRouter,
    name: str,
    arguments: Mapping[str, Any],
    call: CallContext,
    default_timeout: float | None,
    deadline: float | None = None,
) -> tuple[dict[str, Any], ToolOutcome]:
    """`invoke_tool` as a ``(body, outcome)`` pair, without building the `ToolReply` (the app's hot path).

    ``deadline`` (a `time.monotonic` value), when given, is when the tool must have answered: the app
    counts its timeout from the request's arrival, so the time spent waiting for the call's state is
    part of it. Inside an observed webhook, the run is observed too (the ``execute_tool`` span, the
    inspector's row).
    """
    if _events.ACTIVE:
        parent = _events.current()
        if parent is not None:
            return await _observed(parent.source, router, name, arguments, call, default_timeout, deadline)
    return await _run(router, name, arguments, call, default_timeout, deadline)


async def _observed(
    source: _events.EventSource,
    router: ToolRouter,
    name: str,
    arguments: Mapping[str, Any],
    call: CallContext,
    default_timeout: float | None,
    deadline: float | None,
) -> tuple[dict[str, Any], ToolOutcome]:
    observation = _events.ToolObservation(source, name, name in router.tools, arguments, call.session_guid)
    source.begin(observation)
    try:
        body, outcome = await _run(router, name, arguments, call, default_timeout, deadline)
        observation.reply, observation.outcome = body, outcome
    except BaseException as exc:  # a cancellation: the client went away
        observation.error = exc
        raise
    finally:
        source.end(observation)
    return body, outcome


async def _run(
    router: ToolRouter,
    name: str,
    arguments: Mapping[str, Any],
    call: CallContext,
    default_timeout: float | None,
    deadline: float | None,
) -> tuple[dict[str, Any], ToolOutcome]:
    call.tool_name = name
    tool = router.get(name)
    if tool is None:
        available = list(router.tools)
        listed = ", ".join(available) if available else "none"
        shown = name if len(name) <= 64 else name[:61] + "..."  # the name comes from the URL: keep it short
        return _failure(
            "unknown_tool",
            f"There is no tool named {shown!r}. The tools you can call are: {listed}.",
            available_tools=available,
        )

    timeout = tool.timeout if tool.timeout is not None else default_timeout
    if deadline is None and timeout is not None:
        deadline = time.monotonic() + timeout
    call.deadline = deadline
    metadata = tool.metadata
    try:
        args, kwargs = metadata.bind(name, arguments, call)
    except ToolArgumentsError as exc:
        listed = "; ".join(f"{p['argument']} {p['problem']}" for p in exc.problems)
        logger.info("Tool %r called with invalid arguments: %s", name, listed)
        return _failure(
            "invalid_arguments",
            f"The arguments for {name} were not valid: {listed}. Ask the caller again for what is missing "
            f"or wrong, or correct the arguments, then call {name} again.",
            problems=exc.problems,
        )

    try:
        running = tool.fn(*args, **kwargs) if metadata.is_async else tool.call(args, kwargs)
        result = await running if deadline is None else await run_until(running, deadline)
        if type(result) is dict and is_plain(result):
            return result, "ok"
        value = to_jsonable(result)
    except ToolError as exc:
        return _failure("tool_error", exc.message)
    except DeadlineExceeded:
        logger.warning("Tool %r took longer than its %s s timeout (call %s)", name, timeout, call.session_guid)
        return _failure(
            "timeout",
            f"The tool {name} took too long to answer and was stopped. Tell the caller it is taking longer "
            "than expected, and offer to try again.",
        )
    except Exception as exc:
        # The text of the exception may hold secrets: it goes to the log, never to the model.
        logger.exception("Tool %r failed (call %s)", name, call.session_guid)
        if _events.ACTIVE:
            _events.note_exception(exc)
        return _failure("error", _generic_error(name))
    return (value if isinstance(value, dict) else {"result": value}), "ok"


def _generic_error(name: str) -> str:
    return (
        f"The tool {name} failed because of a problem on our side. Tell the caller it did not work this time, "
        "and offer to try again or to help another way."
    )
