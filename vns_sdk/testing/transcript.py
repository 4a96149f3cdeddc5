"""Record and replay: a call's webhook exchanges as a JSON Lines transcript, and sending them again.

A transcript is the regression test you keep when a real call went wrong. Record one with
``VNSSimulator(app, record="call.jsonl")`` or, in production, with `RecordingMiddleware`; then
``vns-sdk replay call.jsonl --app app:app`` (or `replay`) sends the same requests to the app again and
shows, per exchange, what the app now answers differently. Values that change from one call to the
next (GUIDs, times, tokens, secrets, the app's host) are not counted as differences.

Each line of a transcript is one exchange::

    {"kind": "tool", "tool": "lookup_name_or_phone", "at": "2026-03-12T10:42:16.204Z",
     "request": {"method": "POST", "path": "/vns/tools", "headers": {...}, "body": {...}},
     "response": {"status": 200, "body": {...}}, "elapsed_ms": 1.8}

A call recorded through the Realtime bridge (``vns-sdk chat --record``) also holds what was said, in
lines of ``"kind": "conversation"``; they are not exchanges, and reading and replaying skip them.

Keys and tokens never reach the file: ``Authorization`` and other credential headers, the header
values of ``aiUrl`` and ``defaultToolsUrlBase``, and anything that looks like a bearer token, a JWT
or an ``sk-...`` key are replaced by ``<redacted>``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vns_sdk.testing._redaction import redact, redact_headers, redact_text
from vns_sdk.testing.exchange import Exchange

__all__ = [
    "RecordedExchange",
    "RecordingMiddleware",
    "ReplayReport",
    "ReplayedExchange",
    "TranscriptWriter",
    "areplay",
    "read_transcript",
    "redact",
    "redact_headers",
    "replay",
]

_KINDS = {"call-start": "call_start", "call-end": "call_end"}
_MAX_RECORDED_BODY = 1024 * 1024


# -- writing ---------------------------------------------------------------------------------------------


def _line(
    kind: str,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: Any,
    status: int,
    response_body: Any,
    elapsed_ms: float,
    tool: str | None,
) -> str:
    record: dict[str, Any] = {"kind": kind}
    if tool:
        record["tool"] = tool
    record["at"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record["request"] = {
        "method": method,
        "path": redact_text(path),
        "headers": redact_headers(headers),
        "body": redact(body),
    }
    record["response"] = {"status": status, "body": redact(response_body)}
    record["elapsed_ms"] = round(elapsed_ms, 3)
    return json.dumps(record, ensure_ascii=False)


class TranscriptWriter:
    """Appends exchanges to a JSON Lines transcript, secrets redacted; the file is started afresh.

    Args:
        path: The transcript file (its directory is created if needed).
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        """Write one exchange of a simulated call."""
        self.write_line(
            _line(
                exchange.kind,
                method=exchange.method,
                path=exchange.path,
                headers=exchange.request_headers,
                body=exchange.request_body,
                status=exchange.status,
                response_body=exchange.response_body,
                elapsed_ms=exchange.elapsed_ms,
                tool=exchange.tool,
            )
        )

    def write_line(self, line: str) -> None:
        """Append one JSON line (already redacted)."""
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


class RecordingMiddleware:
    """ASGI middleware writing every webhook the app answers to a transcript, secrets redacted.

    Switch it on where a real call misbehaves, then replay the transcript against a fixed app:

    ```python
    from vns_sdk.testing import RecordingMiddleware

    app = RecordingMiddleware(vns_app, "transcripts/calls.jsonl")
    ```

    Args:
        app: The ASGI app (a `VNSApp`, or an app mounting one).
        path: The transcript file; it is started afresh.
        prefix: Only requests under this path are recorded (default: every CallStart, tool call and CallEnd
            route, wherever it is mounted).
    """

    def __init__(self, app: Any, path: str | PathLike[str], *, prefix: str | None = None) -> None:
        self.app = app
        self.prefix = prefix
        self.writer = TranscriptWriter(path)

    def _kind(self, path: str) -> str | None:
        if self.prefix is not None and not path.startswith(self.prefix.rstrip("/") + "/"):
            return None
        segments = path.rstrip("/").split("/")
        if segments[-1] in _KINDS:
            return _KINDS[segments[-1]]
        return "tool" if "tools" in segments else None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """Run the app, keeping a copy of each webhook request and its answer."""
        kind = self._kind(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        # Read the request before the app does: an app may answer without reading the body (a refusal).
        request_body = bytearray()
        pending: list[Any] = []
        more = True
        while more and len(request_body) <= _MAX_RECORDED_BODY:
            message = await receive()
            pending.append(message)
            request_body.extend(message.get("body", b"") if message["type"] == "http.request" else b"")
            more = message["type"] == "http.request" and bool(message.get("more_body"))
        response_body = bytearray()
        status = 0
        began = time.perf_counter()

        async def receive_and_copy() -> Any:
            return pending.pop(0) if pending else await receive()

        async def send_and_copy(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_and_copy, send_and_copy)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}
            body = _parse(bytes(request_body))
            self.writer.write_line(
                _line(
                    kind,
                    method=scope.get("method", "POST"),
                    path=scope.get("path", "") + (f"?{query}" if query else ""),
                    headers=headers,
                    body=body,
                    status=status or 500,
                    response_body=_parse(bytes(response_body)),
                    elapsed_ms=(time.perf_counter() - began) * 1000,
                    tool=_wrapper(body).get("toolName") if kind == "tool" else None,
                )
            )


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _wrapper(body: Any) -> Mapping[str, Any]:
    wrapper = body.get("VoiceElements_InvokeTool") if isinstance(body, Mapping) else None
    return wrapper if isinstance(wrapper, Mapping) else {}


# -- reading ---------------------------------------------------------------------------------------------


@dataclass
class RecordedExchange:
    """One line of a transcript.

    Attributes:
        source: The transcript file.
        line: The line number in it (from 1).
        kind: ``"call_start"``, ``"tool"`` or ``"call_end"``.
        method: The HTTP method.
        path: The path and query string requested.
        headers: The request headers (redacted).
        body: The request body.
        status: The HTTP status answered.
        response_body: The answer's body.
        elapsed_ms: How long the app took.
        tool: The tool's name, when the transcript or the request names it.
    """

    source: Path
    line: int
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    response_body: Any
    elapsed_ms: float = 0.0
    tool: str | None = None

    @property
    def arguments(self) -> dict[str, Any]:
        """A tool call's arguments: the body without the ``VoiceElements_InvokeTool`` wrapper."""
        if not isinstance(self.body, Mapping):
            return {}
        return {key: value for key, value in self.body.items() if key != "VoiceElements_InvokeTool"}

    @property
    def label(self) -> str:
        """``CallStart``, ``CallEnd`` or ``tool <name>``."""
        return {"call_start": "CallStart", "call_end": "CallEnd"}.get(self.kind) or f"tool {self.tool or '?'}"


def read_transcript(path: str | PathLike[str]) -> list[RecordedExchange]:
    """Read a JSON Lines transcript.

    Raises:
        ValueError: A line is not a recorded exchange (the message names the file and line).
    """
    source = Path(path)
    exchanges = []
    for number, text in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            if isinstance(record, dict) and record.get("kind") == "conversation":
                continue  # what was said in a bridged call (vns-sdk chat): not a webhook exchange
            request, response = record["request"], record["response"]
            kind = record["kind"]
            if kind not in ("call_start", "tool", "call_end"):
                raise ValueError(f"unknown kind {kind!r}")
            body = request.get("body")
            exchanges.append(
                RecordedExchange(
                    source=source,
                    line=number,
                    kind=kind,
                    method=request.get("method", "POST"),
                    path=request.get("path", ""),
                    headers=dict(request.get("headers") or {}),
                    body=body,
                    status=int(response["status"]),
                    response_body=response.get("body"),
                    elapsed_ms=float(record.get("elapsed_ms") or 0.0),
                    tool=record.get("tool") or _wrapper(body).get("toolName"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}:{number}: not a transcript line ({exc})") from exc
    return exchanges


# -- replaying -------------------------------------------------------------------------------------------


@dataclass
class ReplayedExchange:
    """How one recorded exchange went when sent again.

    Attributes:
        recorded: The exchange from the transcript.
        status: The HTTP status the app answers now (``None`` if it was not sent).
        body: The answer now.
        differences: What differs from the recorded answer, one readable line each.
        error: Why the exchange could not be replayed, if it could not.
    """

    recorded: RecordedExchange
    status: int | None = None
    body: Any = None
    differences: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the app answered as recorded."""
        return self.error is None and not self.differences


@dataclass
class ReplayReport:
    """The outcome of replaying transcripts: `ok` when every exchange got the answer recorded.

    Attributes:
        exchanges: One entry per recorded exchange, in transcript order.
    """

    exchanges: list[ReplayedExchange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every exchange matched (an empty replay is not ok: nothing was checked)."""
        return bool(self.exchanges) and all(exchange.ok for exchange in self.exchanges)

    @property
    def failures(self) -> list[ReplayedExchange]:
        """The exchanges that differ or could not be replayed."""
        return [exchange for exchange in self.exchanges if not exchange.ok]

    def render(self) -> str:
        """A readable report: each exchange, ``ok`` or ``DIFF``, with what differs beneath it."""
        lines: list[str] = []
        source: Path | None = None
        for exchange in self.exchanges:
            recorded = exchange.recorded
            if recorded.source != source:
                source = recorded.source
                lines.append(f"{source}")
            verdict = "ok  " if exchange.ok else ("FAIL" if exchange.error else "DIFF")
            status = "-" if exchange.status is None else str(exchange.status)
            lines.append(f"  {verdict}  line {recorded.line:<3} {recorded.label:<36} {status}")
            if exchange.error:
                lines.append(f"          {exchange.error}")
            lines.extend(f"          {difference}" for difference in exchange.differences)
        if not self.exchanges:
            lines.append("No exchanges to replay.")
        else:
            bad = len(self.failures)
            total = len(self.exchanges)
            lines.append(
                f"All {total} exchanges answered as recorded."
                if not bad
                else f"{bad} of {total} exchanges did not answer as recorded."
            )
        return "\n".join(lines)


def replay(
    paths: str | PathLike[str] | Iterable[str | PathLike[str]],
    *,
    app: Any = None,
    url: str | None = None,
    webhook_token: str | None = None,
    prefix: str | None = None,
    timeout: float = 30.0,
) -> ReplayReport:
    """Send the requests of transcripts to the app again and compare its answers with the recorded ones.

    Each recorded call is placed afresh: CallStart first (so the call gets new tool headers and URLs),
    then its tool calls through the tools URL the app answers now, then CallEnd, with the recorded
    sessionGuid and customerCallId mapped onto the new call's. GUIDs, times, tokens, secrets and the
    app's host are not compared.

    Args:
        paths: One transcript or several.
        app: The ASGI app to replay against, in process.
        url: Instead of `app`, the base URL of a running app.
        webhook_token: The token to present (default: as `VNSSimulator` finds it).
        prefix: The app's route prefix (default: a `VNSApp`'s own, else where the transcript's CallStart went).
        timeout: Seconds to wait for each answer.

    Returns:
        The report; ``report.ok`` tells whether every exchange matched, ``report.render()`` shows them.
    """
    from anyio.from_thread import start_blocking_portal

    with start_blocking_portal() as portal:
        return portal.call(
            lambda: areplay(paths, app=app, url=url, webhook_token=webhook_token, prefix=prefix, timeout=timeout)
        )


async def areplay(
    paths: str | PathLike[str] | Iterable[str | PathLike[str]],
    *,
    app: Any = None,
    url: str | None = None,
    webhook_token: str | None = None,
    prefix: str | None = None,
    timeout: float = 30.0,
) -> ReplayReport:
    """`replay`, from async code."""
    from vns_sdk.testing.simulator import VNSSimulator

    files = [paths] if isinstance(paths, (str, PathLike)) else list(paths)
    recorded = [exchange for path in files for exchange in read_transcript(path)]
    report = ReplayReport()
    if prefix is None and getattr(getattr(app, "settings", None), "prefix", None) is None:
        # Not a VNSApp: the routes are where the transcript found them.
        prefix = next(
            (item.path.split("?")[0][: -len("/call-start")] for item in recorded if item.kind == "call_start"), None
        )
    simulator = VNSSimulator(app, url=url, webhook_token=webhook_token, prefix=prefix, validate=False, timeout=timeout)
    results: dict[int, ReplayedExchange] = {}
    async with simulator:
        for call in _group_calls(recorded):
            for outcome in await _replay_call(simulator, call):
                results[id(outcome.recorded)] = outcome
    for item in recorded:
        report.exchanges.append(
            results.get(id(item))
            or ReplayedExchange(item, error="not replayed: no CallStart of this call is in the transcript")
        )
    return report


def _group_calls(exchanges: Sequence[RecordedExchange]) -> list[list[RecordedExchange]]:
    """Split recorded exchanges into calls, each starting with its CallStart (calls may interleave)."""
    calls: dict[str, list[RecordedExchange]] = {}
    adapters: dict[str, str | None] = {}
    last: str | None = None
    for exchange in exchanges:
        guid = _session_of(exchange, adapters)
        if exchange.kind == "call_start" and guid:
            calls[guid] = [exchange]
            answer = exchange.response_body if isinstance(exchange.response_body, Mapping) else {}
            instructions = answer.get("VoiceElements_Instructions") or {}
            adapters[guid] = instructions.get("defaultToolsUrlAdapter") if isinstance(instructions, Mapping) else None
            last = guid
        else:
            # A tool call whose URL and body do not name the call belongs to the latest call started.
            guid = guid if guid in calls else last
            if guid is not None:
                calls[guid].append(exchange)
    return list(calls.values())


def _session_of(exchange: RecordedExchange, adapters: Mapping[str, str | None]) -> str | None:
    if exchange.kind != "tool":
        guid = exchange.body.get("sessionGuid") if isinstance(exchange.body, Mapping) else None
        return str(guid) if guid else None
    guid = _wrapper(exchange.body).get("sessionGuid")
    if guid:
        return str(guid)
    from vns_sdk.models import ToolsUrlAdapter

    parts = urlsplit(exchange.path)
    for template in {adapter for adapter in adapters.values() if adapter}:
        found = _adapter_fields(ToolsUrlAdapter(template), parts.path, parts.query)
        if found and found.session_guid:
            return str(found.session_guid)
    return None


def _adapter_fields(adapter: Any, path: str, query: str) -> Any:
    # The adapter's part of the path follows the tools route ("/vns/tools/<adapter part>").
    head, found, tail = path.partition("/tools")
    if not found:
        return None
    try:
        return adapter.parse(tail, dict(parse_qsl(query, keep_blank_values=True)))
    except ValueError:
        return None


async def _replay_call(simulator: Any, recorded: list[RecordedExchange]) -> list[ReplayedExchange]:
    from vns_sdk.exceptions import SimulationError
    from vns_sdk.testing.core import AsyncSimulatedCall

    start, rest = recorded[0], recorded[1:]
    old_guid = str(start.body.get("sessionGuid"))
    request = {**start.body, "sessionGuid": _fresh_guid()}
    call: AsyncSimulatedCall = simulator._new_call(simulator._client, request)
    try:
        await call.start()
    except SimulationError as exc:
        first = ReplayedExchange(start, status=exc.status, body=exc.body, error=_first_line(exc.message))
        first.differences = _compare(start, exc.status, exc.body, {})
        if exc.status == start.status and not first.differences:
            first.differences = [f"the answer no longer fits: {_first_line(exc.message)}"]
        return [first] + [ReplayedExchange(item, error="not replayed: CallStart failed") for item in rest]

    names = {old_guid: "<sessionGuid>", call.session_guid: "<sessionGuid>"}
    old_ccid = _recorded_ccid(start)
    if old_ccid:
        names[old_ccid] = "<customerCallId>"
    if call.customer_call_id:
        names[call.customer_call_id] = "<customerCallId>"
    answered = call.exchanges[-1]
    results = [_result(start, answered.status, answered.response_body, names)]
    adapter = _recorded_adapter(start)
    for exchange in rest:
        if exchange.kind == "tool":
            tool, arguments = _recorded_tool(exchange, adapter)
            exchange.tool = exchange.tool or tool
            if tool is None:
                results.append(ReplayedExchange(exchange, error="not replayed: the transcript does not name the tool"))
                continue
            problems = _schema_problems(call, tool, arguments)
            response = await call.invoke_raw(tool, arguments)
            result = _result(exchange, response.status_code, call.exchanges[-1].response_body, names)
            result.differences[:0] = problems
            results.append(result)
        elif exchange.kind == "call_end" and not call.ended:
            body = _mapped(exchange.body, {old_guid: call.session_guid, old_ccid: call.customer_call_id})
            response = await call.end_raw(body)
            results.append(_result(exchange, response.status_code, call.exchanges[-1].response_body, names))
        else:
            results.append(ReplayedExchange(exchange, error="not replayed: the call had already ended"))
    return results


def _recorded_ccid(start: RecordedExchange) -> str | None:
    answer = start.response_body if isinstance(start.response_body, Mapping) else {}
    instructions = answer.get("VoiceElements_Instructions")
    value = instructions.get("customerCallId") if isinstance(instructions, Mapping) else None
    value = value or (start.body.get("customerCallId") if isinstance(start.body, Mapping) else None)
    return str(value) if value else None


def _recorded_adapter(start: RecordedExchange) -> str | None:
    answer = start.response_body if isinstance(start.response_body, Mapping) else {}
    instructions = answer.get("VoiceElements_Instructions")
    adapter = instructions.get("defaultToolsUrlAdapter") if isinstance(instructions, Mapping) else None
    return str(adapter) if adapter else None


def _recorded_tool(exchange: RecordedExchange, adapter: str | None) -> tuple[str | None, dict[str, Any]]:
    if exchange.tool:
        return exchange.tool, exchange.arguments
    if adapter:
        from vns_sdk.models import ToolsUrlAdapter

        parts = urlsplit(exchange.path)
        found = _adapter_fields(ToolsUrlAdapter(adapter), parts.path, parts.query)
        if found is not None and found.tool_name:
            return str(found.tool_name), exchange.arguments
    return None, exchange.arguments


def _schema_problems(call: Any, tool: str, arguments: Mapping[str, Any]) -> list[str]:
    from vns_sdk.testing._checks import argument_problems

    function = call.tools.get(tool)
    if function is None:
        return [f"the app no longer offers the tool {tool!r} (it offers: {', '.join(call.tools) or 'none'})"]
    return [
        f"the tool's schema now rejects these arguments: {problem}"
        for problem in argument_problems(function, arguments)
    ]


def _mapped(value: Any, mapping: Mapping[str | None, str | None]) -> Any:
    if isinstance(value, Mapping):
        return {key: _mapped(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_mapped(item, mapping) for item in value]
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return value


def _result(recorded: RecordedExchange, status: int | None, body: Any, names: Mapping[str, str]) -> ReplayedExchange:
    return ReplayedExchange(recorded, status=status, body=body, differences=_compare(recorded, status, body, names))


def _compare(recorded: RecordedExchange, status: int | None, body: Any, names: Mapping[str, str]) -> list[str]:
    from vns_sdk.testing.assertions import differences

    if status != recorded.status:
        # Another status means another kind of answer: the body is shown, not compared field by field.
        now_text = json.dumps(redact(body), ensure_ascii=False) if not isinstance(body, str) else body
        now_text = now_text if len(now_text) <= 300 else now_text[:297] + "..."
        return [f"HTTP status: recorded {recorded.status}, now {status}", f"answer now: {now_text}"]
    found: list[str] = []
    was = _normalized(recorded.response_body, names)
    now = _normalized(redact(body), names)
    found.extend(differences(now, was, labels=("recorded", "now"), path=""))
    return found


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_ORIGIN = re.compile(r"^(https?|wss?)://[^/?#]+")


def _normalized(value: Any, names: Mapping[str, str], key: str = "") -> Any:
    """Replace what legitimately changes between two runs of the same call with placeholders."""
    if isinstance(value, Mapping):
        return {k: _normalized(item, names, str(k)) for k, item in value.items()}
    if isinstance(value, list):
        return [_normalized(item, names, key) for item in value]
    if not isinstance(value, str):
        return value
    if key == "event_id":
        return "<event_id>"  # an event's own identifier, new for every event
    if value in names:
        return names[value]
    for name, placeholder in names.items():
        if len(name) >= 6:
            value = value.replace(name, placeholder)
    if key == "url" and value.startswith(("http://", "https://")):
        value = _ORIGIN.sub("<origin>", value)  # the app answers from whatever host it is served on
    value = _GUID.sub("<guid>", value)
    return _TIME.sub("<time>", value)


def _fresh_guid() -> str:
    import uuid

    return str(uuid.uuid4())


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
