"""Replay: a transcript's requests sent to the app again, and what it now answers differently.

A transcript is the regression test you keep when a real call went wrong. Record one with
``VNSSimulator(app, record="call.jsonl")`` or, in production, with `RecordingMiddleware`; then
``vns-sdk replay call.jsonl --app app:app`` (or `replay`) sends the same requests to the app again and
shows, per exchange, what the app now answers differently. Values that change from one call to the
next (GUIDs, times, tokens, secrets, the app's host) are not counted as differences.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import httpx

from vns_sdk._redaction import redact
from vns_sdk._transcript import RecordedExchange, read_transcript
from vns_sdk.exceptions import SimulationError
from vns_sdk.models.tool_call import ToolInvocation, ToolsUrlAdapter, VoiceElementsInvokeTool
from vns_sdk.testing._assertions import differences
from vns_sdk.testing._call import AsyncSimulatedCall
from vns_sdk.testing._checks import argument_problems
from vns_sdk.testing._runtime import AppTarget

__all__ = ["ReplayReport", "ReplayedExchange", "areplay", "replay"]

# The app's tools route: an adapter's part of a tool call's path follows it.
_TOOLS_ROUTE = "/tools"


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
    files = [paths] if isinstance(paths, (str, PathLike)) else list(paths)
    recorded = [exchange for path in files for exchange in read_transcript(path)]
    report = ReplayReport()
    if prefix is None and getattr(getattr(app, "settings", None), "prefix", None) is None:
        # Not a VNSApp: the routes are where the transcript found them.
        prefix = next(
            (item.path.split("?")[0][: -len("/call-start")] for item in recorded if item.kind == "call_start"), None
        )
    target = AppTarget.resolve(app, url=url, webhook_token=webhook_token, prefix=prefix)
    results: dict[int, ReplayedExchange] = {}
    async with target.client(timeout) as client:
        for call in _group_calls(recorded):
            for outcome in await _replay_call(client, target, call):
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
            adapters[guid] = _recorded_adapter(exchange)
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
    guid = ToolInvocation.raw_wrapper(exchange.body).get("sessionGuid")
    if guid:
        return str(guid)
    for template in {adapter for adapter in adapters.values() if adapter}:
        found = _url_metadata(template, exchange.path)
        if found and found.session_guid:
            return str(found.session_guid)
    return None


def _url_metadata(adapter: str, path: str) -> VoiceElementsInvokeTool | None:
    try:
        return ToolsUrlAdapter(adapter).parse_url(path, route=_TOOLS_ROUTE)
    except ValueError:
        return None


async def _replay_call(
    client: httpx.AsyncClient, target: AppTarget, recorded: list[RecordedExchange]
) -> list[ReplayedExchange]:
    start, rest = recorded[0], recorded[1:]
    old_guid = str(start.body.get("sessionGuid"))
    request = {**start.body, "sessionGuid": _fresh_guid()}
    # Not validated: a replay reports what differs from the recording rather than stopping at it.
    call = AsyncSimulatedCall(client, request, prefix=target.prefix, webhook_headers=target.headers, validate=False)
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
    value = _instruction(start, "customerCallId")
    value = value or (start.body.get("customerCallId") if isinstance(start.body, Mapping) else None)
    return str(value) if value else None


def _recorded_adapter(start: RecordedExchange) -> str | None:
    adapter = _instruction(start, "defaultToolsUrlAdapter")
    return str(adapter) if adapter else None


def _instruction(start: RecordedExchange, key: str) -> Any:
    # Read as recorded, without the wire model: a CallStart answer that no longer fits must still be replayed.
    answer = start.response_body if isinstance(start.response_body, Mapping) else {}
    instructions = answer.get("VoiceElements_Instructions")
    return instructions.get(key) if isinstance(instructions, Mapping) else None


def _recorded_tool(exchange: RecordedExchange, adapter: str | None) -> tuple[str | None, dict[str, Any]]:
    if exchange.tool:
        return exchange.tool, exchange.arguments
    if adapter:
        found = _url_metadata(adapter, exchange.path)
        if found is not None and found.tool_name:
            return str(found.tool_name), exchange.arguments
    return None, exchange.arguments


def _schema_problems(call: AsyncSimulatedCall, tool: str, arguments: Mapping[str, Any]) -> list[str]:
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
    return str(uuid.uuid4())


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
