"""`ScriptedRealtimeServer`: a local WebSocket server that plays the OpenAI Realtime model from a script.

It speaks the part of the GA Realtime protocol a VNS call uses: the handshake (with its key check),
``session.created`` / ``session.update``, conversation items, and responses streamed as text (or as an
audio transcript), with function calls. It runs on loopback, needs no key and costs nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from vns_sdk.testing.realtime._protocol import (
    Event,
    EventWriter,
    default_session,
    merge_session,
    protocol_problem,
    refusal,
)
from vns_sdk.testing.realtime._script import RealtimeScript, Say, ScriptedResponse, ScriptRule

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal
    from websockets.asyncio.server import Server, ServerConnection
    from websockets.http11 import Request, Response

__all__ = ["ScriptedConnection", "ScriptedRealtimeServer"]


@dataclass
class ScriptedConnection:
    """One client connection to the scripted server, and what it sent.

    Attributes:
        path: The path requested, with its query string.
        model: The ``model`` of the query string, if any.
        headers: The handshake's request headers (as sent: they hold the key).
        events: Every client event received, as JSON objects, in order.
        session: The effective session, after the ``session.update`` events.
        caller_lines: What the caller said (the text of each user message).
        function_calls: The functions the model called, by ``call_id``.
        function_outputs: The ``function_call_output`` the client returned, by ``call_id``.
        problems: What went wrong on the client's side or in the script (an event the protocol does
            not accept, an output for an unknown call, a line no rule matches).
        closed: Whether the connection is over.
    """

    path: str
    model: str | None
    headers: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] = field(default_factory=dict)
    caller_lines: list[str] = field(default_factory=list)
    function_calls: dict[str, str] = field(default_factory=dict)
    function_outputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    closed: bool = False

    def sent(self, type: str) -> list[dict[str, Any]]:
        """The client events of this type, in order."""
        return [event for event in self.events if event.get("type") == type]


@dataclass
class _Conversation:
    """What the server keeps of one connection while it runs."""

    record: ScriptedConnection
    writer: EventWriter
    rule: ScriptRule | None = None
    step: int = 0
    last_item_id: str | None = None
    tokens: int = 0


class ScriptedRealtimeServer:
    """A scripted stand-in for the OpenAI Realtime endpoint, on loopback.

    ```python
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")

    async with ScriptedRealtimeServer(script, api_key="sk-test") as server:
        server.url()  # ws://127.0.0.1:<port>/v1/realtime?model=gpt-realtime
    ```

    Use it with ``async with`` in async code, or with ``with`` (it then runs in a background thread).

    Args:
        script: What the model says and calls (default: an empty script).
        api_key: Accept only this key, as ``Authorization: Bearer <key>`` or ``api-key: <key>``; other
            handshakes get HTTP 401, as OpenAI answers a wrong key.
        headers: Accept only handshakes carrying these headers with these values (HTTP 401 otherwise).
        models: Accept only these models: another ``?model=`` gets an ``error`` event
            (``model_not_found``) and the connection is closed, as OpenAI does.
        refuse: Refuse every handshake with this HTTP status (429 for a rate limit, 500, ...).
        path: The path the endpoint answers on (HTTP 404 elsewhere).
        host: The interface to listen on.
        port: The port (default: a free one).
    """

    def __init__(
        self,
        script: RealtimeScript | None = None,
        *,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        models: tuple[str, ...] | list[str] | None = None,
        refuse: int | None = None,
        path: str = "/v1/realtime",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.script = script if script is not None else RealtimeScript()
        self.api_key = api_key
        self.headers = {name.lower(): value for name, value in (headers or {}).items()}
        self.models = tuple(models) if models is not None else None
        self.refuse = refuse
        self.path = path
        self.host = host
        self.port = port
        self.connections: list[ScriptedConnection] = []
        self._server: Server | None = None
        self._sync: ExitStack | None = None
        self._portal: BlockingPortal | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else ("stopped" if self.port else "not started")
        return f"<ScriptedRealtimeServer {where}, {len(self.connections)} connections>"

    # -- where it is -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``ws://host:port``, once started (and still after, to name it in messages)."""
        if self._server is None and not self.port:
            raise RuntimeError("The scripted Realtime server is not running: use it in `with` or `async with`.")
        return f"ws://{self.host}:{self.port}"

    def url(self, model: str | None = "gpt-realtime") -> str:
        """The endpoint's URL, as a CallStart answer's ``aiUrl`` gives it (``?model=`` if a model is given)."""
        return f"{self.base_url}{self.path}" + (f"?model={model}" if model else "")

    @property
    def last(self) -> ScriptedConnection:
        """The latest connection."""
        if not self.connections:
            raise LookupError("No client has connected to the scripted Realtime server yet.")
        return self.connections[-1]

    # -- running ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (``async with`` does it)."""
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._serve, self.host, self.port, process_request=self._check_handshake, max_size=None
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def __aenter__(self) -> ScriptedRealtimeServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __enter__(self) -> ScriptedRealtimeServer:
        from anyio.from_thread import start_blocking_portal

        stack = ExitStack()
        portal = stack.enter_context(start_blocking_portal())
        try:
            portal.call(self.start)
        except BaseException:
            stack.close()
            raise
        self._sync, self._portal = stack, portal
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack, portal = self._sync, self._portal
        self._sync = self._portal = None
        if stack is not None and portal is not None:
            try:
                portal.call(self.stop)
            finally:
                stack.close()

    # -- the handshake ---------------------------------------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if self.refuse is not None:
            return refusal(self.refuse)
        if parts.path.rstrip("/") != self.path.rstrip("/"):
            return refusal(404, f"Invalid URL (GET {parts.path}).")
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        if self.api_key is not None:
            presented = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not presented:
                return refusal(401, "Missing bearer or basic authentication in header.", code=None)
            if presented != self.api_key:
                return refusal(401)
        if any(headers.get(name) != value for name, value in self.headers.items()):
            return refusal(401)
        return None

    # -- a connection ----------------------------------------------------------------------------------

    async def _serve(self, websocket: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        parts = urlsplit(websocket.request.path if websocket.request else "")
        model = dict(parse_qsl(parts.query)).get("model")
        headers = dict(websocket.request.headers.raw_items()) if websocket.request else {}
        record = ScriptedConnection(
            path=websocket.request.path if websocket.request else "", model=model, headers=headers
        )
        self.connections.append(record)
        conversation = _Conversation(record=record, writer=EventWriter())
        try:
            if self.models is not None and model not in self.models:
                unknown = f"The model `{model}` does not exist or you do not have access to it."
                await _send(websocket, [conversation.writer.error(unknown, code="model_not_found")])
                await websocket.close(1008, "model_not_found")
                return
            record.session = default_session(model or "gpt-realtime", conversation.writer.new_id("sess"))
            await _send(websocket, [conversation.writer.event("session.created", session=record.session)])
            async for message in websocket:
                if not await self._handle(websocket, conversation, message):
                    return
        except ConnectionClosed:
            pass
        finally:
            record.closed = True

    async def _handle(self, websocket: ServerConnection, conversation: _Conversation, message: str | bytes) -> bool:
        """Answer one client event; False once the connection is to be dropped."""
        writer, record = conversation.writer, conversation.record
        try:
            event = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            record.problems.append("a message that is not JSON")
            await _send(websocket, [writer.error("The message could not be parsed as JSON.", code="invalid_json")])
            return True
        if not isinstance(event, dict):
            event = {"type": None, "value": event}
        record.events.append(event)
        problem = protocol_problem(event)
        if problem:
            record.problems.append(f"{event.get('type')}: {problem}")
            await _send(websocket, [writer.error(problem, event_id=event.get("event_id"))])
            return True
        kind = event["type"]
        if kind == "session.update":
            record.session = merge_session(record.session, event["session"])
            await _send(websocket, [writer.event("session.updated", session=record.session)])
        elif kind == "conversation.item.create":
            await _send(websocket, self._add_item(conversation, event))
        elif kind == "response.create":
            return await self._respond(websocket, conversation, event)
        return True

    def _add_item(self, conversation: _Conversation, event: dict[str, Any]) -> list[Event]:
        writer, record = conversation.writer, conversation.record
        item = dict(event["item"])
        item.setdefault("id", writer.new_id("item"))
        item.setdefault("object", "realtime.item")
        item["status"] = "completed"
        if item.get("type") == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in record.function_calls:
                record.problems.append(f"function_call_output for an unknown call_id {call_id!r}")
                return [
                    writer.error(
                        f"Tool call ID '{call_id}' not found in conversation.",
                        param="item.call_id",
                        event_id=event.get("event_id"),
                    )
                ]
            record.function_outputs[call_id] = str(item.get("output", ""))
            conversation.tokens += 1 + len(str(item.get("output", ""))) // 4
        elif item.get("type") == "message" and item.get("role") == "user":
            words = " ".join(
                str(part.get("text") or part.get("transcript") or "") for part in item.get("content") or []
            )
            record.caller_lines.append(words)
            conversation.tokens += len(words.split()) + 4
            conversation.rule = self.script.rule_for(words)
            conversation.step = 0
            if conversation.rule is None:
                record.problems.append(f"no rule of the script matches the caller's line {words!r}")
        previous, conversation.last_item_id = conversation.last_item_id, str(item["id"])
        return [writer.item_added(item, previous), writer.item_done(item, previous)]

    async def _respond(self, websocket: ServerConnection, conversation: _Conversation, event: dict[str, Any]) -> bool:
        scripted = _next_response(conversation)
        if scripted.delay:
            # Wait, unless the client leaves first (a caller hanging up on a slow model).
            try:
                await asyncio.wait_for(websocket.wait_closed(), scripted.delay)
                return False
            except asyncio.TimeoutError:
                pass
        if scripted.action == "drop":
            websocket.transport.abort()
            return False
        writer, record = conversation.writer, conversation.record
        if scripted.action == "error":
            error = scripted.error or {}
            await _send(
                websocket,
                [writer.error(str(error.get("message")), type=str(error.get("type")), code=error.get("code"))],
            )
            return True
        override = event.get("response") or {}
        modalities = override.get("output_modalities") or record.session.get("output_modalities") or ["audio"]
        rendered = writer.response(
            scripted,
            modality=str(modalities[0]),
            input_tokens=conversation.tokens + len(str(record.session.get("instructions") or "").split()),
            previous_item_id=conversation.last_item_id,
        )
        record.function_calls.update(rendered.calls)
        for sent in rendered.events:
            if sent["type"] == "response.output_item.done":
                conversation.last_item_id = str(sent["item"]["id"])
        conversation.tokens += sum(1 for output in scripted.outputs for _ in str(getattr(output, "text", "")).split())
        await _send(websocket, rendered.events)
        return True


def _next_response(conversation: _Conversation) -> ScriptedResponse:
    """The response the script gives to this ``response.create``."""
    rule = conversation.rule
    if rule is None:
        line = conversation.record.caller_lines[-1] if conversation.record.caller_lines else ""
        return ScriptedResponse(outputs=[Say(f"[scripted model: no rule matches {line!r}]")])
    if conversation.step >= len(rule.responses):
        return ScriptedResponse()  # the rule has nothing more to say
    conversation.step += 1
    return rule.responses[conversation.step - 1]


async def _send(websocket: ServerConnection, events: list[Event]) -> None:
    # One write for the whole burst, as a server streams a response's events back to back.
    for event in events:
        await websocket.send(json.dumps(event))
