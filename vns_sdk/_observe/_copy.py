"""A call seen by the inspector, written out: as transcript lines, or as a scenario file.

Both read the feed's ``end`` records of one call (already redacted). The transcript holds every webhook
the call made, in the format `vns-sdk replay` and `vns_sdk.testing.replay` read; the scenario
(``*.vns.yaml``, what `vns-sdk test` and pytest run) places the same call again: the same caller, each
tool call that was answered with its arguments, and each reply as the one to expect. A call the harness
cannot place (a refused request, an unknown tool, arguments outside the tool's schema) is left out, and
named in a comment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from vns_sdk._transcript import transcript_line

__all__ = ["scenario_text", "transcript_text"]

_KINDS = {"call-start": "call_start", "tools": "tool", "call-end": "call_end"}
_WRAPPER = "VoiceElements_InvokeTool"
# Replies to calls a scenario cannot place: the harness holds the model to the session's tools and schemas.
_NOT_REPLAYABLE = frozenset({"unknown_tool", "invalid_arguments"})
# CallStart fields -> the keyword of `VNSSimulator.call` (a scenario's ``caller``).
_CALLER = (
    ("callerId", "caller_id"),
    ("callerIdName", "caller_id_name"),
    ("calledNumber", "called_number"),
    ("customerCallId", "customer_call_id"),
)


def _webhooks(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [record for record in records if record.get("kind") == "webhook" and record.get("name") in _KINDS]


def transcript_text(records: Sequence[Mapping[str, Any]]) -> str:
    """The call's webhooks as transcript lines (JSON Lines, one exchange per line)."""
    lines = []
    for record in _webhooks(records):
        line = json.loads(
            transcript_line(
                _KINDS[record["name"]],
                method=record.get("method") or "POST",
                path=record.get("path") or "",
                headers=record.get("headers") or {},
                body=record.get("request"),
                status=record.get("status") or 0,
                response_body=record.get("response"),
                elapsed_ms=float(record.get("ms") or 0.0),
                tool=record.get("tool"),
            )
        )
        if isinstance(record.get("at"), int):  # when it happened, not when it was copied
            when = datetime.fromtimestamp(record["at"] / 1000, timezone.utc)
            line["at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines.append(json.dumps(line, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def _get(body: Any, camel: str, snake: str) -> Any:
    if not isinstance(body, Mapping):
        return None
    return body[camel] if camel in body else body.get(snake)


def scenario_text(records: Sequence[Mapping[str, Any]], *, session_guid: str, app: str | None = None) -> str:
    """The call as a scenario file (YAML): its caller, its answered tool calls and replies, its end.

    Args:
        records: The call's records.
        session_guid: The call's sessionGuid (named in the file's comment).
        app: The app the scenario runs against (``file.py:attribute``), when known.
    """
    import yaml

    webhooks = _webhooks(records)
    caller: dict[str, Any] = {}
    offered: list[str] | None = None
    steps: list[dict[str, Any]] = []
    left_out: list[str] = []
    end: dict[str, Any] = {}
    for record in webhooks:
        request, response, status = record.get("request"), record.get("response"), record.get("status")
        if record["name"] == "call-start" and status == 200:
            for camel, snake in _CALLER:
                value = _get(request, camel, snake)
                if value:
                    caller[snake] = value
            if _get(request, "outboundTriggered", "outbound_triggered"):
                caller["outbound"] = True
            session = response.get("session") if isinstance(response, Mapping) else None
            tools = session.get("tools") if isinstance(session, Mapping) else None
            if isinstance(tools, list):
                offered = [
                    tool["name"] for tool in tools if isinstance(tool, Mapping) and tool.get("type") == "function"
                ]
        elif record["name"] == "tools" and record.get("tool"):
            error = response.get("error") if isinstance(response, Mapping) else None
            if status != 200 or not isinstance(request, Mapping) or error in _NOT_REPLAYABLE:
                # A refused request, or a call the model could not make through its tools' schemas.
                left_out.append(f"{record['tool']} ({error or f'HTTP {status}'})")
                continue
            arguments = {key: value for key, value in request.items() if key != _WRAPPER}
            steps.append({"tool": record["tool"], "arguments": arguments, "expect": response})
        elif record["name"] == "call-end" and status == 200:
            end = {"status": _get(request, "status", "status") or 0}
            if isinstance(response, Mapping) and "status" in response:
                end["expect"] = {"status": response["status"]}
    name = f"Call from {caller['caller_id']}" if caller.get("caller_id") else "A call"
    data: dict[str, Any] = {"name": f"{name} ({session_guid[:8]})"}
    if app:
        data["app"] = app
    data["caller"] = caller
    if offered is not None:
        data["tools"] = offered
    data["steps"] = steps
    if end:
        data["end"] = end
    header = (
        f"# Call {session_guid}, copied from the vns-sdk inspector.\n"
        "# Run it with `vns-sdk test` or pytest; each `expect` is the reply the model heard then.\n"
    )
    if left_out:
        header += f"# Left out: {', '.join(left_out)}.\n"
    if not app:
        header += "# Add `app: path/to/app.py:app` (or pass the app to run_scenario).\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
