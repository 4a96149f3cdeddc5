"""The tools route: authenticate a tool call, find its call, run the tool, answer what the model hears.

This is the hot path of a live call, so it runs on raw ASGI: one pass over the headers, the body read
under a cap, the SDK's JSON codec, an HMAC check, the call read from the store, the tool, and the answer.
A tool that uses ``call.state`` reads the call with its lease (its turn with the state) and then saves
what it changed, releasing the lease, in one more store step; a tool that does not reads it without one
and runs alongside the others (`vns_sdk.app._state_io` has the rules).

VNS names the tool and the call in one of seven ways, and the route accepts all of them whatever the
app answered in ``defaultToolsUrlAdapter``:

* ``POST /tools`` with a ``VoiceElements_InvokeTool`` object in the body (the adapter is ``null``);
* ``/tools/<tool>``, ``/tools/<tool>/<ccid>``, ``/tools/<guid>/<tool>/<ccid>``, ``/tools/<tool>/<guid>/<ccid>``;
* ``/tools?toolname=...&sessionguid=...[&customerCallId=...]``.

The two three-segment forms look alike; the sessionGuid the tool token was issued for tells them apart
(and, failing that, the registered tool names). An empty customerCallId segment means none.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from types import CoroutineType
from typing import Any
from urllib.parse import parse_qsl, unquote

from vns_sdk._json import JSONError, dumps, loads
from vns_sdk.app._access_log import log_webhook, logger
from vns_sdk.app._asgi import (
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    announced_too_large,
    answer_error,
    body_too_large,
    message_within,
    read_body,
    receive_rest,
    send_json,
)
from vns_sdk.app._auth import ToolTokenError
from vns_sdk.app._errors import WebhookError
from vns_sdk.app._intake import MALFORMED_JSON
from vns_sdk.app._runtime import Runtime
from vns_sdk.app._state_io import (
    STORE_PATIENCE,
    call_ttl,
    dropped_changes,
    give_back,
    lease_seconds,
    retrying,
    save,
    unsaveable,
)
from vns_sdk.context import CallContext
from vns_sdk.exceptions import CallStateBusy, StateStoreError
from vns_sdk.models.tool_call import INVOKE_TOOL_KEY as WRAPPER_KEY
from vns_sdk.state.base import CallRecord, CallSnapshot, CallState
from vns_sdk.tools._invoke import invoke_tool_body
from vns_sdk.tools._tool import Tool

__all__ = ["ENDPOINT", "tool_call"]

ENDPOINT = "tools"

_TOKEN_MESSAGES = {
    "missing": "This tool call carries no tool token: send the defaultToolsUrlBase headers of the CallStart answer.",
    "malformed": "The tool token is not valid.",
    "bad_signature": "The tool token is not valid.",
    "expired": "The tool token has expired with its call.",
    "mismatch": "The tool token belongs to another call.",
}
_UNAVAILABLE = dumps(
    {"error": "unavailable", "message": "The service is briefly unavailable. Apologize and try again in a moment."}
)
_BUSY = dumps(
    {
        "error": "busy",
        "message": "Another request of this call took too long, so this one could not run. Tell the caller you "
        "need a moment, then try again.",
    }
)
_UNSENDABLE = dumps(
    {"error": "error", "message": "The tool answered something that cannot be sent. Tell the caller it failed."}
)
_INTERRUPTED = dumps(
    {
        "error": "interrupted",
        "message": "The service restarted before the tool finished, so it may or may not have acted. Tell the "
        "caller you need a moment, then check before trying again.",
    }
)
_INTERRUPTED_BEFORE = dumps(
    {
        "error": "interrupted",
        "message": "The service restarted before the tool could run. Tell the caller you need a moment, then try "
        "again.",
    }
)
# What uvicorn says when it cancels the requests still running at the end of its graceful shutdown (0.29+).
SHUTDOWN_CANCEL = "Task cancelled, timeout graceful shutdown exceeded"
_JSON_200 = [(b"content-type", b"application/json")]


def _unauthorized(reason: str, guid: str | None = None, tool: str | None = None) -> WebhookError:
    return WebhookError(
        401, "unauthorized", _TOKEN_MESSAGES[reason], outcome=f"token_{reason}", session_guid=guid, tool=tool
    )


def _raw_rest(scope: Scope, rest: str) -> str:
    """The path after ``/tools`` as sent, still percent-encoded (see `_names_from_path`), or ``rest`` itself."""
    raw: bytes | None = scope.get("raw_path")
    if not raw or b"%" not in raw:
        return rest
    raw_text = raw.decode("latin-1")
    # The decoded tail ends the path; its encoded form is the raw path's tail holding as many characters once
    # decoded. Find it by decoding ever longer tails: the encoded tail starts at a "/" of the raw path.
    start = raw_text.rfind("/tools")
    while start >= 0:
        tail = raw_text[start + 6 :]
        if tail.count("/") > 3:
            # Longer tails hold even more segments than any adapter form: the path is refused either way, and
            # decoding every one of them would cost time in the square of the path's length.
            break
        if unquote(tail) == rest:
            return tail
        start = raw_text.rfind("/tools", 0, start)
    return rest


def _names_from_path(runtime: Runtime, rest: str, token_guid: str) -> tuple[str | None, str | None]:
    """``(tool_name, session_guid)`` named by the path after ``/tools`` (the customerCallId is not needed).

    ``rest`` may be percent-encoded (the raw path): a customerCallId holding an encoded ``/`` then stays one
    segment. Each segment is decoded on its own.
    """
    segments = [unquote(segment) if "%" in segment else segment for segment in rest[1:].split("/")]
    count = len(segments)
    if count in (1, 2):
        return segments[0] or None, None
    if count == 3:
        first, second = segments[0], segments[1]
        if first == token_guid:
            return second, first
        if second == token_guid:
            return first, second
        if first in runtime.tools and second not in runtime.tools:
            return first, second
        return second, first
    raise WebhookError(
        404, "not_found", "This tools URL fits none of the defaultToolsUrlAdapter forms.", session_guid=token_guid
    )


def _names_from_query(query: bytes) -> tuple[str | None, str | None]:
    tool = guid = None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        lowered = key.lower()
        if lowered == "toolname":
            tool = value or None
        elif lowered == "sessionguid":
            guid = value or None
    return tool, guid


def _arguments(body: bytes, guid: str) -> dict[str, Any]:
    """The JSON object of a tool call's body (``{}`` for an empty body)."""
    if not body.strip():
        return {}
    try:
        parsed = loads(body)
    except JSONError:
        raise WebhookError(400, "malformed_json", MALFORMED_JSON, session_guid=guid) from None
    if not isinstance(parsed, dict):
        problems = [{"field": "(body)", "problem": "The body must be a JSON object."}]
        raise WebhookError(
            422, "invalid_request", "The tool arguments must be a JSON object.", problems=problems, session_guid=guid
        )
    return parsed


def _tool_name(runtime: Runtime, scope: Scope, rest: str, arguments: dict[str, Any], guid: str) -> str:
    """The tool the request names (in the wrapper, the path or the query), checking every sessionGuid it claims."""
    tool: Any = None
    claimed: list[str | None] = []
    wrapper = arguments.pop(WRAPPER_KEY, None)
    if wrapper is not None:
        if not isinstance(wrapper, dict):
            problems = [{"field": WRAPPER_KEY, "problem": "Input should be an object."}]
            raise WebhookError(
                422, "invalid_request", f"{WRAPPER_KEY} must be an object.", problems=problems, session_guid=guid
            )
        tool = wrapper.get("toolName") or None
        claimed.append(wrapper.get("sessionGuid"))
    if len(rest) > 1:
        path_tool, path_guid = _names_from_path(runtime, _raw_rest(scope, rest), guid)
        tool = path_tool or tool
        claimed.append(path_guid)
    query = scope.get("query_string")
    if query:
        query_tool, query_guid = _names_from_query(query)
        tool = query_tool or tool
        claimed.append(query_guid)
    if not isinstance(tool, str):
        problems = [{"field": "toolName", "problem": "Name the tool in the URL or in VoiceElements_InvokeTool."}]
        raise WebhookError(
            422, "invalid_request", "The tool call does not name a tool.", problems=problems, session_guid=guid
        )
    for other in claimed:
        if other and other != guid:
            raise _unauthorized("mismatch", tool=tool)
    return tool


async def tool_call(runtime: Runtime, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
    """Serve one tool call; ``rest`` is the path after ``<prefix>/tools`` (``""``, ``"/lookup"``, ...).

    A refused request (401, 413, 408, 400, 404, 410, 422) is answered here through `answer_error`, as every
    route answers its `WebhookError`: this endpoint is called directly on the hot path, without the
    route wrapper.
    """
    started = time.perf_counter()
    guid = tool = None
    answered = running = False
    try:
        authorization = None
        too_large = False
        limit = runtime.max_body_size
        # One pass over the headers (ASGI servers lowercase their names).
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                too_large = announced_too_large(value, limit)
        if authorization is None or authorization[:7].lower() != b"bearer ":
            raise _unauthorized("missing")
        try:
            guid = runtime.tool_tokens.verify(authorization[7:].strip())
        except ToolTokenError as exc:
            raise _unauthorized(exc.reason) from None

        if too_large:
            raise body_too_large(guid)
        deadline = 0.0
        try:
            # message_within, inlined for the usual case: the body came with the headers, and receive() returns it
            # in its first step, with no time limit to watch. Only a receive that waits is put under one.
            receiving = receive()
            if type(receiving) is CoroutineType:
                try:
                    step = receiving.send(None)
                except StopIteration as done:
                    message = done.value
                else:
                    deadline = time.monotonic() + runtime.body_timeout
                    message = await receive_rest(receiving, step, deadline)
            else:
                deadline = time.monotonic() + runtime.body_timeout
                message = await message_within(receiving, deadline)
            if message["type"] == "http.request" and not message.get("more_body", False):
                body = message.get("body", b"")  # the whole body in one message: the usual case
                if len(body) > limit:
                    raise body_too_large()
            else:
                deadline = deadline or time.monotonic() + runtime.body_timeout
                body = await read_body(scope, receive, limit, deadline, checked_length=True, first=message)
        except WebhookError as exc:
            exc.session_guid = guid
            raise
        arguments = _arguments(body, guid)
        tool = _tool_name(runtime, scope, rest, arguments, guid)

        entry = runtime.tools.get(tool)
        timeout = runtime.tool_timeout if entry is None or entry.timeout is None else entry.timeout
        deadline = time.monotonic() + timeout
        try:
            if entry is not None and entry.uses_state:
                # This tool's turn with the call's state: the tools of a call that use it run one at a time.
                snapshot = await retrying(
                    lambda: runtime.store.acquire_call(
                        guid, lease_seconds=lease_seconds(timeout), wait_seconds=deadline - time.monotonic()
                    ),
                    min(deadline, time.monotonic() + STORE_PATIENCE),
                )
            else:
                snapshot = await runtime.store.read_call(guid)
        except CallStateBusy:
            logger.warning("tool call %s: the call's state stayed held by another handler past the deadline", tool)
            answered = True
            return await _answer(send, _BUSY, started, "state_busy", guid, tool)
        except StateStoreError as exc:
            if entry is None or entry.metadata.context_param is not None:
                logger.error("tool call %s: the call-state store failed: %s", tool, exc)
                answered = True
                return await _answer(send, _UNAVAILABLE, started, "store_unavailable", guid, tool)
            # A tool that asks nothing of its call can run on the tool token alone.
            logger.warning("tool call %s: the call-state store failed, running it without: %s", tool, exc)
            snapshot = CallSnapshot(CallRecord(guid, max_seconds=runtime.max_seconds), {})
        if snapshot.ended:
            message_410 = "This call has ended: its tools can no longer be called."
            raise WebhookError(410, "call_ended", message_410, session_guid=guid, tool=tool)

        record = snapshot.record
        if record is None:
            record = _unknown_call(runtime, guid)
        state = CallState._from_store(snapshot.state)  # a fresh copy from the store: no need to copy it again
        call = CallContext.from_record(record, state, tool_name=tool)
        lease = snapshot.lease
        updates: dict[str, str] = {}
        deleted: list[str] = []
        running = True
        try:
            body_out, tool_outcome = await invoke_tool_body(
                runtime.tools, tool, arguments, call, runtime.tool_timeout, deadline
            )
            outcome: str = tool_outcome
            try:
                updates, deleted = state.diff()
            except TypeError:  # the tool stored what JSON (or UTF-8) cannot hold: the rest is saved, it is answered
                updates, deleted, bad = state.saveable_diff()
                unsaveable(scope, _who(tool, entry), state, bad)
                outcome = "state_not_saved"
            if lease is not None:
                ttl = call_ttl(runtime, snapshot.record)
                until = max(deadline, time.monotonic() + STORE_PATIENCE)
                # The tool has already acted: the model hears its answer whatever happens to the save.
                if not await save(runtime, lease, updates, deleted, ttl, until=until, who=f"tool call {tool}"):
                    outcome = "state_not_saved"
        except BaseException:
            if lease is not None:  # cancelled (the server shutting down, ...): the call's next handler need not wait
                await give_back(runtime, lease, updates, deleted, snapshot.record, who=f"tool call {tool}")
            raise
        if lease is None and (updates or deleted):
            dropped_changes(scope, _who(tool, entry), [*updates, *deleted])
            outcome = "state_not_saved"
        try:
            answer = dumps(body_out)
        except JSONError as exc:
            logger.error("tool call %s: the reply is not JSON: %s", tool, exc)
            answer, outcome = _UNSENDABLE, "unsendable_reply"
        # _answer, inlined: one coroutine less on every tool call.
        answered = True
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON_200, (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})
        if logger.isEnabledFor(logging.INFO):  # log_webhook checks too; this skips the call when the line is off
            log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid, tool=tool)
    except WebhookError as error:
        await answer_error(send, ENDPOINT, started, error)
    except ClientDisconnected:
        log_webhook(ENDPOINT, started, 499, "disconnected")
    except asyncio.CancelledError as cancel:
        # The server stopped waiting for it (its graceful shutdown ran out): the model still hears JSON, and
        # the request ends answered, not as an error with a traceback. Any other cancellation (a timeout
        # around the app, a task group) is its canceller's to handle, and goes on.
        if answered or cancel.args[:1] != (SHUTDOWN_CANCEL,):
            raise
        if sys.version_info >= (3, 11):  # a task that ends normally after a cancel asked of it says so
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        logger.warning("tool call %s: interrupted by the server's shutdown", tool or "(not read yet)")
        await _answer(send, _INTERRUPTED if running else _INTERRUPTED_BEFORE, started, "interrupted", guid, tool)


def _unknown_call(runtime: Runtime, guid: str) -> CallRecord:
    """The record of a live call the store has none of: its CallStart was answered while the store was down."""
    runtime.warn_once(
        logger,
        "unknown_call",
        f"tool call of call {guid}: the store has no record of its CallStart (answered while the store was "
        "down, or by a worker that shares no store: with several workers set VNS_REDIS_URL); the call is served "
        "with what the store holds",
    )
    return CallRecord(guid, max_seconds=runtime.max_seconds)


def _who(tool: str, entry: Tool | None) -> str:
    qualname = getattr(entry.fn, "__qualname__", None) if entry is not None else None
    return f"tool {tool!r}" + (f" ({qualname})" if qualname and qualname != tool else "")


async def _answer(send: Send, answer: bytes, started: float, outcome: str, guid: str | None, tool: str | None) -> None:
    await send_json(send, 200, answer)
    log_webhook(ENDPOINT, started, 200, outcome, session_guid=guid, tool=tool)
