"""The server side of the GA Realtime protocol, as far as a scripted model needs it.

`EventWriter` builds the JSON objects a Realtime server sends (``session.created``, the ``response.*``
stream, ``error``, ...), with fresh ids, in the shapes of the ``openai`` package's server event types;
the tests parse every one of them with those types. `protocol_problem` checks a client event with the
package's client event types, and `refusal` is the HTTP answer to a handshake the server turns down.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from vns_sdk.testing.realtime._script import FunctionCall, Say, ScriptedResponse

if TYPE_CHECKING:
    from websockets.http11 import Response

__all__ = [
    "EventWriter",
    "RenderedResponse",
    "default_session",
    "merge_session",
    "protocol_problem",
    "refusal",
]

Event = dict[str, Any]
_WORDS = re.compile(r"\S+\s*|\s+")


def default_session(model: str, session_id: str) -> dict[str, Any]:
    """The session a new connection starts with, as a Realtime server reports it in ``session.created``."""
    pcm = {"type": "audio/pcm", "rate": 24000}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "You are a helpful, witty, and friendly AI.",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": int(time.time()) + 3600,
        "include": None,
        "audio": {
            "input": {
                "format": dict(pcm),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": dict(pcm), "voice": "marin", "speed": 1.0},
        },
    }


def merge_session(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a ``session.update``: only the fields sent change; objects merge, anything else is replaced."""
    merged = dict(current)
    for key, value in update.items():
        existing = merged.get(key)
        if isinstance(value, Mapping) and isinstance(existing, Mapping):
            merged[key] = merge_session(existing, value)
        else:
            merged[key] = value
    return merged


@dataclass
class RenderedResponse:
    """The events of one scripted response, and the function calls it made (by ``call_id``)."""

    events: list[Event] = field(default_factory=list)
    calls: dict[str, str] = field(default_factory=dict)


class EventWriter:
    """Builds server events with fresh, unique ids for one connection."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.conversation_id = self.new_id("conv")

    def new_id(self, prefix: str) -> str:
        """A fresh id such as ``resp_0007``."""
        return f"{prefix}_{next(self._counter):04d}"

    def event(self, type: str, **fields: Any) -> Event:
        """A server event of this type."""
        return {"type": type, "event_id": self.new_id("event"), **fields}

    def error(
        self,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        event_id: str | None = None,
    ) -> Event:
        """An ``error`` event; `event_id` names the client event at fault, if any."""
        return self.event(
            "error", error={"type": type, "code": code, "message": message, "param": param, "event_id": event_id}
        )

    def rate_limits(self, used_tokens: int) -> Event:
        """The ``rate_limits.updated`` event a server sends after each response."""
        return self.event(
            "rate_limits.updated",
            rate_limits=[
                {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                {"name": "tokens", "limit": 40000, "remaining": max(0, 40000 - used_tokens), "reset_seconds": 0.4},
            ],
        )

    def item_added(self, item: Mapping[str, Any], previous_item_id: str | None) -> Event:
        """``conversation.item.added`` for an item the client or the model added."""
        return self.event("conversation.item.added", item=dict(item), previous_item_id=previous_item_id)

    def item_done(self, item: Mapping[str, Any], previous_item_id: str | None) -> Event:
        """``conversation.item.done`` once the item is complete."""
        return self.event("conversation.item.done", item=dict(item), previous_item_id=previous_item_id)

    def response(
        self, scripted: ScriptedResponse, *, modality: str, input_tokens: int, previous_item_id: str | None
    ) -> RenderedResponse:
        """The whole event stream of a response: created, each output item streamed, done."""
        rendered = RenderedResponse()
        response_id = self.new_id("resp")
        audio = modality == "audio"
        envelope: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "conversation_id": self.conversation_id,
            "output_modalities": [modality],
            "max_output_tokens": "inf",
            "metadata": None,
            "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        }
        rendered.events.append(
            self.event(
                "response.created",
                response={**envelope, "status": "in_progress", "status_details": None, "output": [], "usage": None},
            )
        )
        finished = "completed" if scripted.status == "completed" else "incomplete"
        items: list[dict[str, Any]] = []
        output_tokens = 0
        for index, output in enumerate(scripted.outputs):
            if isinstance(output, Say):
                item, events = self._message(output, response_id, index, audio=audio, status=finished)
                output_tokens += len(output.text.split())
            else:
                item, events = self._function_call(output, response_id, index, status=finished)
                rendered.calls[str(item["call_id"])] = output.name
                output_tokens += 1 + len(str(item["arguments"])) // 4
            for event in events:
                if event["type"] in ("conversation.item.added", "conversation.item.done"):
                    event["previous_item_id"] = previous_item_id
            previous_item_id = str(item["id"])
            items.append(item)
            rendered.events.extend(events)
        details: dict[str, Any] | None = None
        if scripted.status != "completed":
            details = {"type": scripted.status}
            if scripted.reason:
                details["reason"] = scripted.reason
            if scripted.status == "failed":
                details["error"] = dict(scripted.error or {"type": "server_error", "message": "Failed."})
        usage = {
            "total_tokens": input_tokens + output_tokens,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "input_token_details": {
                "text_tokens": input_tokens,
                "audio_tokens": 0,
                "image_tokens": 0,
                "cached_tokens": 0,
            },
            "output_token_details": {"text_tokens": output_tokens, "audio_tokens": 0},
        }
        rendered.events.append(
            self.event(
                "response.done",
                response={
                    **envelope,
                    "status": scripted.status,
                    "status_details": details,
                    "output": items,
                    "usage": usage,
                },
            )
        )
        rendered.events.append(self.rate_limits(input_tokens + output_tokens))
        return rendered

    def _message(
        self, say: Say, response_id: str, index: int, *, audio: bool, status: str
    ) -> tuple[dict[str, Any], list[Event]]:
        item_id = self.new_id("item")
        where = {"response_id": response_id, "item_id": item_id, "output_index": index, "content_index": 0}
        started = {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant"}
        events = [
            self.event(
                "response.output_item.added",
                response_id=response_id,
                output_index=index,
                item={**started, "status": "in_progress", "content": []},
            ),
            self.event("conversation.item.added", item={**started, "status": "in_progress", "content": []}),
        ]
        if audio:
            part_type, delta_type, done_type, key = (
                "audio",
                "response.output_audio_transcript.delta",
                ("response.output_audio_transcript.done"),
                "transcript",
            )
            content = {"type": "output_audio", "transcript": say.text}
        else:
            part_type, delta_type, done_type, key = (
                "text",
                "response.output_text.delta",
                "response.output_text.done",
                "text",
            )
            content = {"type": "output_text", "text": say.text}
        events.append(self.event("response.content_part.added", **where, part={"type": part_type, key: ""}))
        events.extend(self.event(delta_type, **where, delta=chunk) for chunk in _WORDS.findall(say.text))
        events.append(self.event(done_type, **where, **{key: say.text}))
        if audio:
            events.append(self.event("response.output_audio.done", **where))
        events.append(self.event("response.content_part.done", **where, part={"type": part_type, key: say.text}))
        item = {**started, "status": status, "content": [content]}
        events.append(self.event("response.output_item.done", response_id=response_id, output_index=index, item=item))
        events.append(self.event("conversation.item.done", item=item))
        return item, events

    def _function_call(
        self, call: FunctionCall, response_id: str, index: int, *, status: str
    ) -> tuple[dict[str, Any], list[Event]]:
        item_id = self.new_id("item")
        call_id = self.new_id("call")
        arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(dict(call.arguments))
        started = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "call_id": call_id,
            "name": call.name,
        }
        where = {"response_id": response_id, "item_id": item_id, "output_index": index, "call_id": call_id}
        item = {**started, "status": status, "arguments": arguments}
        events = [
            self.event(
                "response.output_item.added",
                response_id=response_id,
                output_index=index,
                item={**started, "status": "in_progress", "arguments": ""},
            ),
            self.event("conversation.item.added", item={**started, "status": "in_progress", "arguments": ""}),
            self.event("response.function_call_arguments.delta", **where, delta=arguments),
            self.event("response.function_call_arguments.done", **where, name=call.name, arguments=arguments),
            self.event("response.output_item.done", response_id=response_id, output_index=index, item=item),
            self.event("conversation.item.done", item=item),
        ]
        return item, events


# -- the handshake and the client's events ----------------------------------------------------------

_HANDSHAKE_ERRORS: dict[int, tuple[str, str | None, str]] = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported.",
    ),
    404: ("invalid_request_error", None, "Invalid URL."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 20s."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def refusal(status: int, message: str | None = None, *, code: str | None | bool = False) -> Response:
    """The HTTP answer refusing a handshake, with an OpenAI-style JSON error body."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    kind, default_code, default_message = _HANDSHAKE_ERRORS.get(status, ("server_error", None, "Refused."))
    error = {
        "message": message or default_message,
        "type": kind,
        "param": None,
        "code": default_code if code is False else code,
    }
    body = json.dumps({"error": error}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status, HTTPStatus(status).phrase, headers, body)


@functools.cache
def _client_event_types() -> dict[str, Any]:
    """The ``openai`` package's client event model for each event type."""
    from typing import get_args

    from openai.types.realtime import RealtimeClientEvent

    union = get_args(RealtimeClientEvent)[0]  # Annotated[Union[...], discriminator]
    return {get_args(model.model_fields["type"].annotation)[0]: model for model in get_args(union)}


def protocol_problem(event: Mapping[str, Any]) -> str | None:
    """Why the GA protocol refuses this client event, or None (checked with the ``openai`` package's types)."""
    from pydantic import ValidationError

    kind = event.get("type")
    model = _client_event_types().get(str(kind))
    if model is None:
        return f"Invalid value: {kind!r}. The type is not a Realtime client event."
    try:
        model.model_validate(event)
    except ValidationError as exc:
        error = _relevant_error(exc.errors())
        where = ".".join(str(part) for part in error["loc"] if not str(part)[:1].isupper()) or "event"
        return f"Invalid {kind} event: {where}: {error['msg']}."
    return None


def _relevant_error(errors: list[Any]) -> Any:
    # In a union, the members whose literal `type` or `role` does not match are the wrong branches: their
    # errors say nothing about what the client meant to send.
    branches: dict[tuple[Any, ...], list[Any]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        cut = next((index for index, part in enumerate(loc) if str(part)[:1].isupper()), len(loc))
        branches.setdefault(loc[: cut + 1], []).append(error)
    for branch in branches.values():
        if not any(error["type"] == "literal_error" for error in branch):
            return branch[0]
    return errors[0]
