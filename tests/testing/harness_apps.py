"""Apps the harness is tested against: a small VNSApp agent, and a hand-written VNS-compatible app that
can be told to misbehave in each way the simulator must catch."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import lookup_tool

from vns_sdk import CallContext, VNSApp
from vns_sdk.models import ToolsUrlAdapter

WEBHOOK_TOKEN = "webhook-secret-1234567890"
OPENAI_KEY = "sk-test-abcdefghijklmnopqrstuvwxyz"
TOOL_TOKEN = "tool-token-abcdefghijklmnop"


def build_lookup_app(*, with_whoami: bool = True, **options: Any) -> VNSApp:
    """The seed's lookup agent, written with vns-sdk."""
    settings: dict[str, Any] = {
        "instructions": "You are a friendly agent who looks up names and numbers.",
        "webhook_token": WEBHOOK_TOKEN,
        "openai_api_key": OPENAI_KEY,
        "end_conversation": True,
    }
    settings.update(options)
    app = VNSApp(**settings)

    app.add_tool(lookup_tool())

    async def whoami(call: CallContext) -> dict[str, Any]:
        """Says who is calling and what the call knows."""
        return {
            "callerId": call.caller_id,
            "outbound": call.outbound,
            "customerCallId": call.customer_call_id,
            "lookups": call.state.get("lookups", 0),
        }

    if with_whoami:
        app.add_tool(whoami)
    return app


def seed_answer() -> dict[str, Any]:
    """A correct CallStart answer, shaped as the seed's example."""
    return {
        "VoiceElements_Instructions": {
            "aiUrl": {
                "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
                "headers": {"Authorization": f"Bearer {OPENAI_KEY}"},
            },
            "maxSeconds": 300,
            "customerCallId": "CallId-001",
            "defaultToolsUrlBase": {
                "url": "http://testserver/hooks/tools",
                "headers": {"Authorization": f"Bearer {TOOL_TOKEN}"},
            },
            "defaultToolsUrlAdapter": None,
        },
        "event_id": "start_1",
        "type": "session.update",
        "session": {
            "type": "realtime",
            "instructions": "You are a friendly agent.",
            "model": "gpt-realtime",
            "tool_choice": "auto",
            "tools": [
                {
                    "name": "lookup_name_or_phone",
                    "description": "Looks up a name or a number.",
                    "type": "function",
                    "parameters": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "phoneNumber": {"type": "string"}},
                    },
                }
            ],
        },
    }


ToolHandler = Callable[[dict[str, Any]], Any]


@dataclass
class FakeVNSApp:
    """A hand-written VNS webhook service (Starlette), to make the simulator face each kind of mistake.

    Attributes:
        answer: The CallStart answer it gives.
        handlers: Tool name -> function of the arguments returning a dict (sent as JSON) or a Response.
        adapter: The adapter its tools route reads the metadata with (``None``: the body wrapper),
            whatever the CallStart answer says.
        received: Every tool request: (path with query, body, metadata found).
    """

    answer: dict[str, Any] = field(default_factory=seed_answer)
    handlers: dict[str, ToolHandler] = field(default_factory=dict)
    adapter: str | None = None
    call_end_answer: Any = field(default_factory=lambda: {"status": 0, "errorMessage": "Success"})
    received: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    call_ends: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.handlers.setdefault("lookup_name_or_phone", lambda args: {"contactFound": args.get("name") == "Ron"})
        self.asgi = Starlette(
            routes=[
                Route("/hooks/call-start", self._call_start, methods=["POST"]),
                Route("/hooks/call-end", self._call_end, methods=["POST"]),
                Route("/hooks/tools", self._tool, methods=["POST"]),
                Route("/hooks/tools/{rest:path}", self._tool, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.asgi(scope, receive, send)

    def set_adapter(self, adapter: str | None) -> None:
        """Answer this adapter and read tool calls with it."""
        self.answer["VoiceElements_Instructions"]["defaultToolsUrlAdapter"] = adapter
        self.adapter = adapter

    def tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self.answer["session"]["tools"]
        return tools

    async def _call_start(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {WEBHOOK_TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse(copy.deepcopy(self.answer))

    async def _call_end(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {WEBHOOK_TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        self.call_ends.append(await request.json())
        if isinstance(self.call_end_answer, Response):
            return self.call_end_answer
        return JSONResponse(self.call_end_answer)

    async def _tool(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOOL_TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if self.adapter is None:
            meta = dict(body.pop("VoiceElements_InvokeTool", None) or {})
        else:
            rest = request.url.path.removeprefix("/hooks/tools")
            try:
                parsed = ToolsUrlAdapter(self.adapter).parse(rest, dict(request.query_params))
            except ValueError:
                return JSONResponse({"error": "not_found"}, status_code=404)
            meta = parsed.model_dump(by_alias=True)
        self.received.append((path, body, meta))
        handler = self.handlers.get(str(meta.get("toolName")))
        if handler is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        result = handler(body)
        return result if isinstance(result, Response) else JSONResponse(result)
