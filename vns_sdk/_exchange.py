"""`Exchange`: one webhook request VNS sent and the answer it got, and a readable printer for them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = ["Exchange", "ExchangeKind", "format_exchanges"]

ExchangeKind = Literal["call_start", "tool", "call_end"]

_LABELS: dict[str, str] = {"call_start": "CallStart", "tool": "Tool", "call_end": "CallEnd"}


@dataclass
class Exchange:
    """One request VNS sent to the app and the answer it got.

    Attributes:
        kind: ``"call_start"``, ``"tool"`` or ``"call_end"``.
        method: The HTTP method (always ``POST`` for VNS).
        url: The URL requested, with its query string.
        request_headers: The headers sent.
        request_body: The JSON body sent (or its text when it was not JSON), keys and tokens redacted.
        status: The HTTP status of the answer.
        response_body: The JSON answer (or its text when it was not JSON), keys and tokens redacted.
        elapsed_ms: How long the app took to answer, in milliseconds.
        tool: The tool's name (tool calls only).
        arguments: The tool arguments the model sent (tool calls only).
        response_headers: The headers of the answer.
    """

    kind: ExchangeKind
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_body: Any
    elapsed_ms: float
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The path and query string of `url` (what a transcript keeps)."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def label(self) -> str:
        """A short name for the exchange: ``CallStart``, ``CallEnd`` or ``tool <name>``."""
        if self.kind == "tool":
            return f"tool {self.tool}" if self.tool else "tool"
        return _LABELS[self.kind]

    def describe(self) -> str:
        """A few readable lines saying what was sent and what came back."""
        head = f"{_LABELS[self.kind]:<9} {self.method} {self.path}  -> {self.status}  ({self.elapsed_ms:.1f} ms)"
        if self.kind == "call_start":
            lines = _describe_call_start(self.request_body, self.response_body, self.status)
        elif self.kind == "tool":
            args = ", ".join(f"{key}={_short(value, 60)}" for key, value in (self.arguments or {}).items())
            lines = [f"{self.tool}({args})", f"-> {_short(self.response_body, 400)}"]
            error = _get(self.response_body, "error")
            if self.status == 200 and isinstance(error, str):
                lines.append(f"   (the model hears an error: {error})")
        else:
            lines = _describe_call_end(self.request_body, self.response_body)
        return "\n".join([head, *(f"    {line}" for line in lines)])


def format_exchanges(exchanges: Iterable[Exchange]) -> str:
    """Render exchanges readably, one block per request: what VNS sent and what the app answered.

    Args:
        exchanges: The exchanges to print, for example `SimulatedCall.exchanges`.

    Returns:
        The text, without a trailing newline.
    """
    return "\n".join(exchange.describe() for exchange in exchanges)


def _short(value: Any, limit: int) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _describe_call_start(request: Any, answer: Any, status: int) -> list[str]:
    direction = "outbound" if _get(request, "outboundTriggered") else "inbound"
    name = _get(request, "callerIdName")
    caller = f"{_get(request, 'callerId')}" + (f' "{name}"' if name else "")
    lines = [
        f"{direction} call from {caller} to {_get(request, 'calledNumber')}, session {_get(request, 'sessionGuid')}"
    ]
    if status != 200 or not isinstance(answer, Mapping):
        lines.append(f"-> {_short(answer, 400)}")
        return lines
    session = _get(answer, "session") or {}
    instructions = _get(answer, "VoiceElements_Instructions") or {}
    tools = [tool.get("name", "?") for tool in session.get("tools") or [] if isinstance(tool, Mapping)]
    voice = _get(session, "audio", "output", "voice")
    adapter = instructions.get("defaultToolsUrlAdapter")
    lines.append(
        f"-> model {session.get('model') or '?'}"
        + (f", voice {voice}" if voice else "")
        + f", max {instructions.get('maxSeconds')} s"
        + (f", customerCallId {instructions['customerCallId']}" if instructions.get("customerCallId") else "")
    )
    lines.append(
        f"   tools: {', '.join(tools) or '(none)'}; tools URL {_get(instructions, 'defaultToolsUrlBase', 'url')}"
    )
    if adapter:
        lines.append(f"   tools URL adapter {adapter}")
    if session.get("instructions"):
        lines.append(f"   instructions: {_short(session['instructions'], 100)}")
    return lines


def _describe_call_end(request: Any, answer: Any) -> list[str]:
    status = _get(request, "status")
    message = _get(request, "errorMessage")
    extra = ", referred out" if _get(request, "callReferredOut") else ""
    return [
        f"status {status}" + (f" ({message})" if message else "") + extra,
        f"-> {_short(answer, 200)}",
    ]
