"""The bridge tests' apps and model: an agent app, the scripted Realtime model, and apps that misbehave.

Imported by plain name (``from bridge_apps import ...``), as ``tests/testing`` imports ``harness_apps``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import httpx
from support import lookup_tool

from vns_sdk import CallContext, VNSApp
from vns_sdk.models import CallEndRequest
from vns_sdk.testing.realtime import RealtimeScript

__all__ = ["KEY", "TOKEN", "AnswerRewriter", "Ended", "ToolFaults", "build_app", "standard_script"]

KEY = "sk-test-bridge-key-0123456789"
TOKEN = "whk-test-bridge-token-0123456789"

Ended = list[tuple[CallEndRequest, dict[str, Any]]]
"""What the app's CallEnd handler saw: the report and the call's state."""


def build_app(ended: Ended, **settings: Any) -> VNSApp:
    """The agent: the seed's lookup tool, a booking tool and end_conversation; CallEnd reports go to `ended`."""
    options: dict[str, Any] = {
        "instructions": "You look up people and book tables.",
        "webhook_token": TOKEN,
        "openai_api_key": KEY,
        "end_conversation": True,
        **settings,
    }
    app = VNSApp(**options)
    app.add_tool(lookup_tool())

    @app.tool
    async def book_table(call: CallContext, day: Literal["monday", "tuesday"], hour: int) -> dict[str, Any]:
        """Books a table.

        Args:
            day: The day.
            hour: The hour, 0 to 23.
        """
        call.state["booked"] = f"{day} {hour}"
        return {"booked": True, "day": day, "hour": hour}

    @app.on_call_end
    async def remember(call: CallContext, report: CallEndRequest) -> None:
        ended.append((report, dict(call.state)))

    return app


def standard_script() -> RealtimeScript:
    """The model of these tests: one rule per situation."""
    script = RealtimeScript()
    script.when("both").say("One moment. ").call("lookup_name_or_phone", name="Ron").call(
        "book_table", day="monday", hour=19
    ).say("Ron Tanner is booked for Monday at 7.")
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    script.when("book").call("book_table", day="tuesday", hour=20).say("Booked for Tuesday at 8.")
    script.when("hold on").say("Let me").call("book_table", day="monday", hour=12).cancel()
    script.when("long").call("book_table", day="monday", hour=13).incomplete()
    script.when("bye").end_call("the caller said bye", goodbye="Goodbye!")
    script.when("slow").wait(30).say("Sorry for the wait.")
    script.when("limit").error(
        "Rate limit reached for gpt-realtime.", code="rate_limit_exceeded", type="rate_limit_exceeded"
    )
    script.when("busy").fail("Rate limit reached for tokens.", code="rate_limit_exceeded", type="rate_limit_exceeded")
    script.when("broken").fail("The server had an error while processing your request.")
    script.when("drop").drop()
    script.when("garbled").call("lookup_name_or_phone", "{not json").say("Sorry?")
    script.otherwise().say("Sorry, could you say that again?")
    return script


# -- apps that misbehave, as ASGI middleware around the agent ---------------------------------------------

Scope = dict[str, Any]


async def _body(receive: Callable[[], Any]) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def _replay(body: bytes) -> Callable[[], Any]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Callable[[Any], Any], status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ToolFaults:
    """Answers the tool requests of some tools as a broken endpoint would; everything else goes to the app.

    ``"401"`` forwards the request with a forged tool token (the app itself refuses it), ``"500"`` answers
    a bare server error, ``"garbage"`` a 200 that is an HTML page, ``"raise"`` lets an exception out of the
    app, ``"unreachable"`` fails as a connection that cannot be made.
    """

    def __init__(self, app: Any, faults: dict[str, str]) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http" or "/tools" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        tool = json.loads(body).get("VoiceElements_InvokeTool", {}).get("toolName")
        fault = self.faults.get(tool)
        if fault == "401":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            forged = {**scope, "headers": [*headers, (b"authorization", b"Bearer forged-token")]}
            await self.app(forged, _replay(body), send)
        elif fault == "500":
            await _answer(send, 500, b"Internal Server Error", "text/plain")
        elif fault == "garbage":
            await _answer(send, 200, b"<html><body>Service Unavailable</body></html>", "text/html")
        elif fault == "raise":
            raise RuntimeError("the database is gone")
        elif fault == "unreachable":
            raise httpx.ConnectError("Connection refused")
        else:
            await self.app(scope, _replay(body), send)


class AnswerRewriter:
    """Changes the CallStart answer the app gives: the ``aiUrl`` URL or headers, or the session."""

    def __init__(
        self,
        app: Any,
        *,
        ai_url: str | None = None,
        ai_headers: dict[str, str] | None = None,
        session: dict[str, Any] | None = None,
    ):
        self.app = app
        self.ai_url = ai_url
        self.ai_headers = ai_headers
        self.session = session

    async def __call__(self, scope: Scope, receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/call-start"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        answer = json.loads(b"".join(chunks))
        if self.ai_url is not None:
            answer["VoiceElements_Instructions"]["aiUrl"]["url"] = self.ai_url
        if self.ai_headers is not None:
            answer["VoiceElements_Instructions"]["aiUrl"]["headers"] = self.ai_headers
        if self.session is not None:
            answer["session"] = self.session
        await _answer(send, int(start["status"]), json.dumps(answer).encode(), "application/json")
