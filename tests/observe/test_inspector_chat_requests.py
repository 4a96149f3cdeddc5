"""The inspector chat's requests and answers at their edges: text UTF-8 cannot carry, bodies cut off or too
slow, secrets that JSON escapes, and a Realtime URL that holds a password."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from observe_support import AUTH, CHAT, JSON, OPENAI_KEY, ObservedAppFactory, client_for, records, start

from vns_sdk import RealtimeEndpoint, VNSApp
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

ODD = "\ud800"  # a lone surrogate: valid in JSON's escapes and in a Python str, not in UTF-8


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_lone_surrogate_in_a_request_is_refused_and_costs_the_chat_nothing(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await start(http)
    say = f"{CHAT}/{chat['chat']}/say"
    refused = [
        await http.post(say, headers=JSON, content=b'{"text": "hi \\ud800"}'),
        await http.post(CHAT, headers=JSON, content=b'{"caller_id_name": "Ada \\udc00"}'),
        await http.post(CHAT, headers=JSON, content=b'{"caller_id": "303555\\ud8000142"}'),
    ]
    for answer in refused:
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_json", answer.text
    assert (await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)).status_code == 200
    said = await http.post(say, headers=JSON, json={"text": "Is Ron there? \U0001f600"})  # a pair is one character
    assert said.status_code == 200 and said.json()["turn"]["caller"] == "Is Ron there? \U0001f600"
    ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
    assert ended.status_code == 200 and ended.json()["live"] is False
    assert errors(caplog) == []


@pytest.fixture
async def odd_model() -> AsyncIterator[ScriptedRealtimeServer]:
    script = RealtimeScript()
    script.when("odd").say(f"An odd {ODD} character.")
    script.when("Ron").call("lookup_name_or_phone", name=f"Ron{ODD}").say("No one of that name.")
    script.otherwise().say("Sorry?")
    async with ScriptedRealtimeServer(script, api_key=OPENAI_KEY) as server:
        yield server


async def test_what_the_model_says_that_utf8_cannot_carry_is_shown_replaced(
    observed_app: ObservedAppFactory, odd_model: ScriptedRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=odd_model.url(model=None)))
    async with client_for(app) as http:
        chat = await start(http)
        said = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Say something odd"})
        assert said.status_code == 200, said.text
        assert said.json()["turn"]["text"] == "An odd \ufffd character."
        called = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Is Ron there?"})
        assert called.status_code == 200, called.text
        assert called.json()["turn"]["tools"][0]["arguments"] == {"name": "Ron\ufffd"}
        shown = await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)
        assert shown.status_code == 200 and [turn["text"] for turn in shown.json()["turns"]][0].startswith("An odd")
        ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
        assert ended.status_code == 200
    assert errors(caplog) == []


async def raw_post(app: VNSApp, path: str, messages: list[dict[str, Any]], *, then: asyncio.Event | None = None) -> int:
    """POST through ASGI, the body as ``messages``; after them, wait for ``then`` (or the client disconnects)."""
    incoming = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        if then is not None:
            await then.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(name.lower().encode(), value.encode()) for name, value in JSON.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"agent"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("agent", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), 10)
    start = next(message for message in sent if message["type"] == "http.response.start")
    status: int = start["status"]
    return status


async def test_a_client_that_leaves_mid_body_ends_quietly(
    http: httpx.AsyncClient, chat_app: VNSApp, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await start(http)
    half = [{"type": "http.request", "body": b'{"text": "Is R', "more_body": True}]
    for path in (CHAT, f"{CHAT}/{chat['chat']}/say", f"{CHAT}/{chat['chat']}/hang-up"):
        assert await raw_post(chat_app, path, half) != 500
    assert errors(caplog) == []
    # Nothing was said, nothing started or ended: the chat goes on.
    shown = (await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)).json()
    assert shown["live"] is True and shown["turns"] == []
    assert (await http.get(CHAT, headers=AUTH)).json()["open"] == 1


async def test_a_body_slower_than_the_apps_limit_is_a_408(
    observed_app: ObservedAppFactory, model: ScriptedRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = observed_app(
        inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)), body_timeout=0.2
    )
    async with client_for(app) as http:
        chat = await start(http)
        never = asyncio.Event()  # the rest of the body never comes
        half = [{"type": "http.request", "body": b'{"text": "Is R', "more_body": True}]
        assert await raw_post(app, f"{CHAT}/{chat['chat']}/say", half, then=never) == 408
        assert await raw_post(app, CHAT, half, then=never) == 408
        assert (await http.get(CHAT, headers=AUTH)).json()["open"] == 1
    assert errors(caplog) == []


QUOTED_KEY = 'sk-quote"and\\back-0042-secret'


async def test_a_secret_that_json_escapes_is_masked_in_every_answer(observed_app: ObservedAppFactory) -> None:
    script = RealtimeScript()
    script.when("key").say(f"Your key is {QUOTED_KEY}, keep it safe.")
    async with ScriptedRealtimeServer(script, api_key=QUOTED_KEY) as model:
        app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(QUOTED_KEY, url=model.url(model=None)))
        async with client_for(app) as http:
            chat = await start(http)
            said = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "What is my key?"})
            shown = await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)
    for answer in (said, shown):
        assert answer.status_code == 200
        assert "quote" not in answer.text and "0042" not in answer.text
    assert said.json()["turn"]["text"] == "Your key is [redacted], keep it safe."


async def test_a_password_in_the_realtime_url_is_never_shown(observed_app: ObservedAppFactory) -> None:
    async with ScriptedRealtimeServer(RealtimeScript()) as model:
        port = model.url(model=None).split(":")[2].split("/")[0]
        url = f"ws://agent-user:pass-7f3e2a@127.0.0.1:{port}/v1/realtime"
        app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=url))
        async with client_for(app) as http:
            status = await http.get(CHAT, headers=AUTH)
            chat = await start(http)
            shown = await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)
            ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
        assert status.json()["where"] == f"ws://127.0.0.1:{port}/v1/realtime"
        assert chat["where"] == shown.json()["where"] == f"ws://127.0.0.1:{port}/v1/realtime"
        # Nor in the timeline, whose CallStart answer holds the aiUrl.
        assert records(app) and "pass-7f3e2a" not in json.dumps(records(app))
    # The model gone, the chat cannot connect: the failure names the host, not the password.
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=url))
    async with client_for(app) as http:
        failed = await http.post(CHAT, headers=JSON, json={})
    assert failed.status_code == 502 and failed.json()["error"] == "unreachable"
    assert f"ws://127.0.0.1:{port}/v1/realtime" in failed.json()["message"]
    for answer in (status, shown, ended, failed):
        assert "pass-7f3e2a" not in answer.text and "agent-user" not in answer.text
