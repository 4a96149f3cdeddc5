"""Run a tool for the model and build what it hears back: `invoke_tool`, `ToolReply`, `to_jsonable`.

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

import dataclasses
import datetime as dt
import enum
import json
import logging
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

from vns_sdk.exceptions import ToolArgumentsError, ToolError
from vns_sdk.tools._deadline import DeadlineExceeded, resume_until, run_until

if TYPE_CHECKING:
    from vns_sdk.context import CallContext
    from vns_sdk.tools.router import ToolRouter

__all__ = ["ToolOutcome", "ToolReply", "invoke_tool", "invoke_tool_body", "to_jsonable"]

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
) -> tuple[dict[str, Any], ToolOutcome]:
    """`invoke_tool` as a ``(body, outcome)`` pair, without building the `ToolReply` (the app's hot path)."""
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
    deadline = call.deadline = None if timeout is None else time.monotonic() + timeout
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
        # An async tool's coroutine is awaited directly: one coroutine less on the hot path.
        running = tool.fn(*args, **kwargs) if metadata.is_async else tool.call(args, kwargs)
        if deadline is None:
            result = await running
        elif type(running) is CoroutineType:
            # Take the first step here: a tool that finishes without waiting (most do) needs no deadline,
            # since nothing could have interrupted it; one that waits is watched from here on.
            try:
                step = running.send(None)
            except StopIteration as done:
                result = done.value
            else:
                result = await resume_until(running, step, deadline)
        else:
            result = await run_until(running, deadline)
        if type(result) is dict and _is_plain(result):
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
    except Exception:
        # The text of the exception may hold secrets: it goes to the log, never to the model.
        logger.exception("Tool %r failed (call %s)", name, call.session_guid)
        return _failure("error", _generic_error(name))
    return (value if isinstance(value, dict) else {"result": value}), "ok"


def _generic_error(name: str) -> str:
    return (
        f"The tool {name} failed because of a problem on our side. Tell the caller it did not work this time, "
        "and offer to try again or to help another way."
    )


# --- results -> JSON --------------------------------------------------------------------------------


# The leaves that need no check; a float must also be finite.
_SCALARS = frozenset((str, int, bool, type(None)))


def _is_plain(value: Any) -> bool:
    """True when a value holds only JSON types (str keys; str, int, finite float, bool, None, list, dict)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        for key, item in value.items():
            # The common leaves are checked inline: this runs on every successful call.
            if type(key) is not str or (type(item) not in _SCALARS and not _is_plain(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _SCALARS or _is_plain(item) for item in value)
    return False


def to_jsonable(value: Any) -> Any:
    """Turn a tool's result into JSON-safe data (what `json.dumps` accepts, with no NaN).

    - dicts, lists, str, int, bool, None: as they are (dict keys become strings);
    - finite floats as they are; NaN and infinities become ``None`` (JSON has no such numbers);
    - pydantic models: ``model_dump(mode="json", by_alias=True)``;
    - dataclasses: an object of their fields;
    - ``datetime``, ``date``, ``time``: ISO 8601 text; ``timedelta``: seconds as a number;
    - ``UUID``, ``Decimal`` (exact) and paths: text; ``Enum``: its value;
    - tuples, sets, frozensets and other iterables pydantic knows: lists;
    - anything else pydantic can serialize (paths, IP addresses, bytes, ...) as pydantic does.

    Raises:
        TypeError: The value cannot be represented as JSON.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_jsonable(item) for item in value]
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    # Subclasses of the JSON types that are not enums.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, Decimal, PurePath)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    try:
        return to_jsonable(to_jsonable_python(value, by_alias=True))
    except PydanticSerializationError:
        raise TypeError(f"A tool result of type {kind.__qualname__} cannot be turned into JSON") from None


def _key(key: Any) -> str:
    # Keys as json.dumps writes them: 1 -> "1", True -> "true", None -> "null"; enums by value.
    if type(key) is str:
        return key
    converted = to_jsonable(key)
    return converted if isinstance(converted, str) else json.dumps(converted)
