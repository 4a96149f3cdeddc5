"""The transcript format: a call's webhook exchanges as JSON Lines, secrets redacted, and reading them back.

A transcript is written by the simulator (``VNSSimulator(app, record="call.jsonl")``) and, in production,
by `vns_sdk.app.recording.RecordingMiddleware`; the harness replays it. Each line is one exchange::

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
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk._exchange import Exchange
from vns_sdk._redaction import redact, redact_headers, redact_text
from vns_sdk.models.tool_call import ToolInvocation

__all__ = ["RecordedExchange", "TranscriptWriter", "read_transcript", "transcript_line"]

_KINDS = ("call_start", "tool", "call_end")


def transcript_line(
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
    """One exchange as a transcript line (without its newline), secrets redacted.

    Args:
        kind: ``"call_start"``, ``"tool"`` or ``"call_end"``.
        method: The HTTP method.
        path: The path and query string requested, as the app saw them.
        headers: The request headers.
        body: The request body (parsed JSON, or its text).
        status: The HTTP status answered.
        response_body: The answer's body (parsed JSON, or its text).
        elapsed_ms: How long the app took.
        tool: The tool's name, when known.
    """
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
            transcript_line(
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
        """Append one line made by `transcript_line`."""
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


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
        return ToolInvocation.raw_arguments(self.body)

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
            if kind not in _KINDS:
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
                    tool=record.get("tool") or ToolInvocation.raw_wrapper(body).get("toolName"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}:{number}: not a transcript line ({exc})") from exc
    return exchanges
