"""How an inspector chat ends: hung up mid-tool, at the app's shutdown, left without a first line.

A hang-up cuts the wait on the model short, never the app's own work: a tool request in flight is answered
(its state saved) and CallEnd is sent to its end, so the call's CallEnd handlers run and see that state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from observe_support import AUTH, CHAT, JSON, OPENAI_KEY, ObservedAppFactory, client_for, records, start, webhooks

from vns_sdk import CallContext, RealtimeEndpoint, VNSApp
from vns_sdk._observe import _chat, _chat_room
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

TOOL_TIMEOUT = 10.0  # as an app sets it: longer than the hang-up's patience once its lease's grace is added


@pytest.fixture
async def note_model() -> AsyncIterator[ScriptedRealtimeServer]:
    script = RealtimeScript()
    script.when("note").call("take_note", note="call Ada back").say("Noted.")
    script.otherwise().say("Sorry?")
    async with ScriptedRealtimeServer(script, api_key=OPENAI_KEY) as server:
        yield server


class NoteApp:
    """An app whose ``take_note`` tool writes ``call.state`` after a while, and whose CallEnd handler reads it."""

    def __init__(self, observed_app: ObservedAppFactory, model: ScriptedRealtimeServer, *, end_seconds: float = 0):
        self.app = observed_app(
            inspector=True,
            realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)),
            tool_timeout=TOOL_TIMEOUT,
        )
        self.running = asyncio.Event()
        self.ended: list[Any] = []  # what each CallEnd handler saw of the note, once it finished

        @self.app.tool
        async def take_note(call: CallContext, note: str) -> dict[str, Any]:
            """Writes a note for the team.

            Args:
                note: What to write down.
            """
            self.running.set()
            await asyncio.sleep(0.5)
            call.state["note"] = note
            return {"noted": True}

        @self.app.on_call_end
        async def file_note(call: CallContext) -> None:
            await asyncio.sleep(end_seconds)
            self.ended.append(call.state.get("note"))


def webhook_statuses(app: VNSApp, session: str) -> list[tuple[str, int]]:
    return [
        (record["name"], record["status"])
        for record in records(app)
        if record["kind"] == "webhook" and record["phase"] == "end" and record.get("session") == session
    ]


@pytest.mark.parametrize("how", ["hang_up", "shutdown"])
async def test_hanging_up_during_a_tool_call_lets_it_finish_then_sends_call_end(
    observed_app: ObservedAppFactory, note_model: ScriptedRealtimeServer, how: str
) -> None:
    notes = NoteApp(observed_app, note_model)
    async with client_for(notes.app) as http:
        chat = await start(http)
        saying = asyncio.create_task(
            http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Take a note, please"})
        )
        await asyncio.wait_for(notes.running.wait(), 10)
        if how == "hang_up":
            ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
            assert ended.status_code == 200 and ended.json()["live"] is False
        else:
            await notes.app.shutdown()
        said = await saying
        assert said.status_code == 409 and said.json()["error"] == "hung_up"
    # The tool ran to its end and saved its note; CallEnd went out once, and its handler saw the note.
    assert notes.ended == ["call Ada back"]
    assert webhook_statuses(notes.app, chat["session"]) == [("call-start", 200), ("tools", 200), ("call-end", 200)]
    call_end = next(r for r in records(notes.app) if r.get("name") == "call-end" and r["phase"] == "end")
    assert call_end["request"]["status"] == 0 and call_end["request"]["logInformation"] == {"endedBy": "caller"}


async def test_call_end_is_not_cut_short_by_the_hang_ups_patience(
    observed_app: ObservedAppFactory, note_model: ScriptedRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_chat, "HANG_UP_PATIENCE", 0.05)  # far shorter than the CallEnd handler takes
    notes = NoteApp(observed_app, note_model, end_seconds=0.5)
    async with client_for(notes.app) as http:
        chat = await start(http)
        ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
        assert ended.status_code == 200 and ended.json()["live"] is False
    assert notes.ended == [None]
    assert webhook_statuses(notes.app, chat["session"]) == [("call-start", 200), ("call-end", 200)]


async def test_once_the_app_is_stopping_no_chat_starts(http: httpx.AsyncClient, chat_app: VNSApp) -> None:
    await chat_app.shutdown()
    refused = await http.post(CHAT, headers=JSON, json={})
    assert refused.status_code == 503 and refused.json()["error"] == "stopping"
    status = (await http.get(CHAT, headers=AUTH)).json()
    assert status["ready"] is False and status["error"] == "stopping" and status["open"] == 0
    assert not [record for record in records(chat_app) if record["kind"] == "webhook"]
    # Served again (a test client used twice), it takes chats again.
    await chat_app.startup()
    await start(http)


async def wait_until_ended(http: httpx.AsyncClient, chat: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for _ in range(200):  # until the chat's own task has hung up
        shown = (await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)).json()
        if not shown["live"]:
            break
        await asyncio.sleep(0.05)
    return shown


async def test_a_chat_without_a_first_line_hangs_up_sooner(
    observed_app: ObservedAppFactory, model: ScriptedRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page that started it lost its answer (a reload mid-request): the chat would hold a slot for long.
    monkeypatch.setattr(_chat_room, "FIRST_LINE_SECONDS", 0.2)
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)))
    async with client_for(app) as http:
        status = (await http.get(CHAT, headers=AUTH)).json()
        assert status["limits"]["first_line_seconds"] == 0.2 and status["limits"]["idle_seconds"] == 300
        lost = await start(http)
        shown = await wait_until_ended(http, lost)
        assert shown["live"] is False
        assert shown["message"] == "This chat has ended because nothing was said for 0.2 s: start another one."
        assert webhooks(app, lost["session"]) == [("call-start", None), ("call-end", None)]

        # Once a line has come, the chat waits the whole idle limit for the next one.
        talked = await start(http)
        said = await http.post(f"{CHAT}/{talked['chat']}/say", headers=JSON, json={"text": "Is Ron there?"})
        assert said.status_code == 200
        await asyncio.sleep(0.6)
        assert (await http.get(f"{CHAT}/{talked['chat']}", headers=AUTH)).json()["live"] is True
