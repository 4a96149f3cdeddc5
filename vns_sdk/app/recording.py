"""`RecordingMiddleware`: the webhooks of real calls written to a transcript, secrets redacted.

A transcript replays against a fixed app (``vns-sdk replay calls.jsonl --app app:app``, or
`vns_sdk.testing.replay`), which shows, per exchange, what the app now answers differently. The
middleware is also exported by `vns_sdk.testing`.
"""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from os import PathLike
from typing import Any

from vns_sdk._transcript import TranscriptWriter, transcript_line
from vns_sdk.models.tool_call import ToolInvocation

__all__ = ["RecordingMiddleware"]

# The last segment of a webhook route -> the kind of exchange; tool calls are under ".../tools".
_KINDS = {"call-start": "call_start", "call-end": "call_end"}
_MAX_RECORDED_BODY = 1024 * 1024


class RecordingMiddleware:
    """ASGI middleware writing every webhook the app answers to a transcript, secrets redacted.

    Switch it on where a real call misbehaves, then replay the transcript against a fixed app:

    ```python
    from vns_sdk.app.recording import RecordingMiddleware

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
                transcript_line(
                    kind,
                    method=scope.get("method", "POST"),
                    path=scope.get("path", "") + (f"?{query}" if query else ""),
                    headers=headers,
                    body=body,
                    status=status or 500,
                    response_body=_parse(bytes(response_body)),
                    elapsed_ms=(time.perf_counter() - began) * 1000,
                    tool=ToolInvocation.raw_wrapper(body).get("toolName") if kind == "tool" else None,
                )
            )


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")
