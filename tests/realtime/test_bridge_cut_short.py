"""A call cut short (its task cancelled, its ``maxSeconds`` reached) while the app works: the tool request in
flight is answered and CallEnd is sent to its end, so the app's state is saved and its CallEnd handlers run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bridge_apps import KEY, Ended, build_app

from vns_sdk import CallContext, VNSApp
from vns_sdk.realtime import RealtimeBridge
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer


class SlowNotes:
    """A ``take_note`` tool that writes ``call.state`` after ``seconds``, and says when it starts."""

    def __init__(self, app: VNSApp, seconds: float) -> None:
        self.running = asyncio.Event()

        @app.tool
        async def take_note(call: CallContext, note: str) -> dict[str, Any]:
            """Writes a note for the team.

            Args:
                note: What to write down.
            """
            self.running.set()
            await asyncio.sleep(seconds)
            call.state["note"] = note
            return {"noted": True}


@pytest.fixture
async def note_server() -> AsyncIterator[ScriptedRealtimeServer]:
    script = RealtimeScript()
    script.when("note").call("take_note", note="call Ada back").say("Noted.")
    script.otherwise().say("Sorry?")
    async with ScriptedRealtimeServer(script, api_key=KEY) as running:
        yield running


async def test_a_turn_cancelled_mid_tool_call_waits_for_the_tools_answer(
    ended: Ended, note_server: ScriptedRealtimeServer
) -> None:
    app = build_app(ended, tool_timeout=10)
    notes = SlowNotes(app, 0.5)
    async with RealtimeBridge(app, realtime_url=note_server.url()).call() as call:
        turn = asyncio.create_task(call.say("Take a note"))
        await asyncio.wait_for(notes.running.wait(), 10)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        [tool] = call.tool_calls
        assert (tool.status, tool.output) == (200, '{"noted":true}')
    report, state = ended[-1]
    assert report.log_information == {"endedBy": "caller"} and state["note"] == "call Ada back"


async def test_max_seconds_reached_mid_tool_call_waits_for_the_tools_answer(
    ended: Ended, note_server: ScriptedRealtimeServer
) -> None:
    app = build_app(ended, max_seconds=1, tool_timeout=10)
    SlowNotes(app, 1.5)
    async with RealtimeBridge(app, realtime_url=note_server.url()).call() as call:
        turn = await call.say("Take a note")
        assert (turn.ended, turn.end_reason) == (True, "max_seconds")
        assert turn.tool("take_note").status == 200
    report, state = ended[-1]
    assert report.log_information == {"endedBy": "max_seconds"} and state["note"] == "call Ada back"
    assert [exchange.kind for exchange in call.exchanges].count("call_end") == 1


async def test_call_end_once_begun_is_sent_to_its_end(ended: Ended, note_server: ScriptedRealtimeServer) -> None:
    app = build_app(ended)
    ending = asyncio.Event()

    @app.on_call_end
    async def slow_filing(call: CallContext) -> None:
        ending.set()
        await asyncio.sleep(0.3)

    async with RealtimeBridge(app, realtime_url=note_server.url()).call() as call:
        hanging_up = asyncio.create_task(call.hang_up())
        await asyncio.wait_for(ending.wait(), 10)
        hanging_up.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging_up
        assert call.ended and (call.vns_call.end_response or {}).get("status") == 0
    assert len(ended) == 1
