"""The inspector's chat: a call to the agent through the model (here the scripted one), from the page's routes.

The app is pointed at the scripted Realtime model as it would be at OpenAI (its `RealtimeEndpoint`), so the
chat connects where the CallStart answer's ``aiUrl`` says, with the answer's key, as VNS does. Its webhooks
reach the app in process, and show in the inspector's feed under the chat's sessionGuid.
"""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from observe_support import (
    AUTH,
    CHAT,
    JSON,
    OPENAI_KEY,
    WEBHOOK_TOKEN,
    ObservedAppFactory,
    client_for,
    records,
    start,
    webhooks,
)

from vns_sdk import CallContext, RealtimeEndpoint, VNSApp
from vns_sdk._observe import _chat_room
from vns_sdk.testing.realtime import ScriptedRealtimeServer


async def test_a_whole_chat_shows_in_the_timeline_under_its_call(
    http: httpx.AsyncClient, chat_app: VNSApp, model: ScriptedRealtimeServer
) -> None:
    status = (await http.get(CHAT, headers=AUTH)).json()
    assert status["ready"] is True and status["open"] == 0
    assert status["where"] == model.url(model=None)

    chat = await start(http, caller_id="3035550142", caller_id_name="Ada Lovelace")
    guid = chat["session"]
    assert chat["live"] is True and chat["model"] == "gpt-realtime" and chat["turns"] == []
    assert {"lookup_name_or_phone", "check_order", "end_conversation"} <= set(chat["tools"])
    assert (await http.get(CHAT, headers=AUTH)).json()["open"] == 1

    first = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Is Ron there?"})
    assert first.status_code == 200, first.text
    turn = first.json()["turn"]
    assert turn["text"] == "Ron Tanner is on +1 303 555 1212."
    assert [(tool["name"], tool["arguments"], tool["status"]) for tool in turn["tools"]] == [
        ("lookup_name_or_phone", {"name": "Ron"}, 200)
    ]
    second = (await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "And my order?"})).json()
    assert second["turn"]["text"] == "Your order A100 has shipped."
    assert second["turn"]["tools"][0]["name"] == "check_order" and second["chat"]["live"] is True

    ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
    assert ended.status_code == 200
    assert ended.json()["live"] is False and ended.json()["end_reason"] == "caller"
    assert [turn["caller"] for turn in ended.json()["turns"]] == ["Is Ron there?", "And my order?"]

    # The model heard the app's answers, and the caller's words as user messages.
    assert model.last.caller_lines == ["Is Ron there?", "And my order?"]
    assert json.loads(next(iter(model.last.function_outputs.values())))["contactName"] == "Ron Tanner"
    # The call's webhooks, through the app's own routes, in the same feed the page shows, under its sessionGuid.
    assert webhooks(chat_app, guid) == [
        ("call-start", None),
        ("tools", "lookup_name_or_phone"),
        ("tools", "check_order"),
        ("call-end", None),
    ]
    runs = [(r["tool"], r["outcome"]) for r in records(chat_app) if r["kind"] == "tool" and r["phase"] == "end"]
    assert runs == [("lookup_name_or_phone", "ok"), ("check_order", "ok")]
    call_start = next(r for r in records(chat_app) if r.get("name") == "call-start" and r["phase"] == "end")
    assert call_start["request"]["callerId"] == "3035550142" and call_start["status"] == 200
    call_end = next(r for r in records(chat_app) if r.get("name") == "call-end" and r["phase"] == "end")
    assert call_end["request"]["status"] == 0 and call_end["request"]["logInformation"] == {"endedBy": "caller"}
    assert (await http.get(CHAT, headers=AUTH)).json()["open"] == 0


async def test_no_secret_in_any_answer(http: httpx.AsyncClient, chat_app: VNSApp) -> None:
    chat = await start(http)
    said = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Is Ron there?"})
    shown = await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)
    ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
    for answer in (said, shown, ended):
        assert OPENAI_KEY not in answer.text and WEBHOOK_TOKEN not in answer.text
        assert "Bearer" not in answer.text


async def test_the_agent_hanging_up_ends_the_chat(http: httpx.AsyncClient, chat_app: VNSApp) -> None:
    chat = await start(http)
    said = (await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "OK, bye"})).json()
    assert said["turn"]["ended"] is True and said["turn"]["end_reason"] == "agent"
    assert said["turn"]["text"] == "Goodbye!" and said["chat"]["live"] is False
    again = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Hello?"})
    assert again.status_code == 410
    assert again.json()["message"] == "This chat has ended because the agent hung up: start another one."
    assert webhooks(chat_app, chat["session"])[-1] == ("call-end", None)


async def test_without_a_key_the_panel_says_so_and_no_call_is_placed(
    observed_app: ObservedAppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = observed_app(inspector=True, openai_api_key=None)
    async with client_for(app) as http:
        status = (await http.get(CHAT, headers=AUTH)).json()
        assert status["ready"] is False and status["error"] == "no_key"
        assert status["message"].startswith("No OpenAI key:") and "OPENAI_API_KEY" in status["message"]
        refused = await http.post(CHAT, headers=JSON, json={})
    assert refused.status_code == 503
    assert refused.json() == {"error": "no_key", "message": status["message"]}
    assert not [record for record in records(app) if record["kind"] == "webhook"]


async def test_a_refused_key_is_a_clear_message_and_the_call_ends(
    observed_app: ObservedAppFactory, model: ScriptedRealtimeServer
) -> None:
    wrong = "sk-not-the-scripted-models-key-0042"
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(wrong, url=model.url(model=None)))
    async with client_for(app) as http:
        refused = await http.post(CHAT, headers=JSON, json={})
        status = (await http.get(CHAT, headers=AUTH)).json()
    assert refused.status_code == 502
    assert refused.json()["error"] == "key_refused"
    assert refused.json()["message"].startswith("The Realtime endpoint refused the key (HTTP 401 from ws://127.0.0.1:")
    assert wrong not in refused.text and "0042" not in refused.text
    assert status["open"] == 0
    # VNS would have sent CallEnd with an error: so does the chat.
    [session] = {r["session"] for r in records(app) if r.get("name") == "call-start" and r["phase"] == "end"}
    assert webhooks(app, session) == [("call-start", None), ("call-end", None)]
    call_end = next(r for r in records(app) if r.get("name") == "call-end" and r["phase"] == "end")
    assert call_end["request"]["status"] == 1 and "refused the key" in call_end["request"]["errorMessage"]


@pytest.mark.parametrize(
    ("line", "error", "words"),
    [
        ("You hit the limit", "rate_limit", "OpenAI rate limit reached"),
        ("drop it", "dropped", "The Realtime connection dropped mid-call"),
    ],
)
async def test_a_failing_model_ends_the_chat_with_a_clear_message(
    http: httpx.AsyncClient, chat_app: VNSApp, line: str, error: str, words: str
) -> None:
    chat = await start(http)
    failed = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": line})
    assert failed.status_code == 502
    assert failed.json()["error"] == error and failed.json()["message"].startswith(words)
    assert failed.json()["chat"]["live"] is False and failed.json()["chat"]["end_reason"] == "error"
    # Asked again, it says the same; the call ended with an error, as VNS would end it.
    again = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Hello?"})
    assert again.status_code == 502 and again.json()["error"] == error
    call_end = next(r for r in records(chat_app) if r.get("name") == "call-end" and r["phase"] == "end")
    assert call_end["session"] == chat["session"] and call_end["request"]["status"] == 1


async def test_bad_requests_are_refused_plainly(http: httpx.AsyncClient) -> None:
    chat = await start(http)
    say = f"{CHAT}/{chat['chat']}/say"
    cases = [
        (await http.post(say, headers=JSON, json={"text": "x" * (_chat_room.MAX_TEXT + 1)}), 413, "too_long"),
        (await http.post(say, headers=JSON, json={"text": "   "}), 422, "empty"),
        (await http.post(say, headers=JSON, json={"text": 42}), 422, "empty"),
        (await http.post(say, headers=JSON, content=b"{not json"), 400, "invalid_json"),
        (await http.post(say, headers=JSON, json=["Is Ron there?"]), 400, "invalid_json"),
        (await http.post(say, headers=JSON, content=b"{" + b" " * 20_000 + b"}"), 413, "too_large"),
        (await http.post(say, headers=AUTH, data={"text": "Is Ron there?"}), 415, "not_json"),
        (await http.post(say, headers={**JSON, "Sec-Fetch-Site": "cross-site"}, json={"text": "x"}), 403, "cross_site"),
        (await http.post(f"{CHAT}/nope/say", headers=JSON, json={"text": "Hi"}), 404, "unknown_chat"),
        (await http.post(CHAT, headers=JSON, json={"caller_id": 3035550142}), 422, "invalid_caller"),
        (await http.post(CHAT, headers=JSON, json={"caller_id_name": "A" * 65}), 422, "invalid_caller"),
    ]
    for answer, status, error in cases:
        assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
        assert answer.json()["message"]
    # None of it cost the chat anything: it goes on.
    said = await http.post(say, headers=JSON, json={"text": "Is Ron there?"})
    assert said.status_code == 200 and said.json()["turn"]["tools"][0]["name"] == "lookup_name_or_phone"


async def test_at_most_a_few_chats_at_once(
    observed_app: ObservedAppFactory, model: ScriptedRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_chat_room, "MAX_CHATS", 2)
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)))
    async with client_for(app) as http:
        first, _ = await start(http), await start(http)
        third = await http.post(CHAT, headers=JSON, json={})
        assert third.status_code == 429 and third.json()["error"] == "too_many_chats"
        assert third.json()["message"].startswith("2 chats are open, the most at once: hang one up first")
        await http.post(f"{CHAT}/{first['chat']}/hang-up", headers=JSON, json={})
        await start(http)


async def test_a_chat_nobody_talks_to_hangs_up(
    observed_app: ObservedAppFactory, model: ScriptedRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_chat_room, "IDLE_SECONDS", 0.2)
    app = observed_app(inspector=True, realtime=RealtimeEndpoint.openai(OPENAI_KEY, url=model.url(model=None)))
    async with client_for(app) as http:
        chat = await start(http)
        for _ in range(200):  # until the chat's own task has hung up
            shown = (await http.get(f"{CHAT}/{chat['chat']}", headers=AUTH)).json()
            if not shown["live"]:
                break
            await asyncio.sleep(0.05)
        assert shown["live"] is False
        assert shown["message"] == "This chat has ended because nothing was said for 0.2 s: start another one."
        late = await http.post(f"{CHAT}/{chat['chat']}/say", headers=JSON, json={"text": "Hello?"})
        assert late.status_code == 410 and late.json()["message"] == shown["message"]
    assert webhooks(app, chat["session"]) == [("call-start", None), ("call-end", None)]


async def test_one_line_at_a_time_and_hanging_up_cuts_a_slow_answer_short(
    http: httpx.AsyncClient, model: ScriptedRealtimeServer, chat_app: VNSApp
) -> None:
    chat = await start(http)
    say = f"{CHAT}/{chat['chat']}/say"
    slow = asyncio.create_task(http.post(say, headers=JSON, json={"text": "This will be slow"}))
    for _ in range(200):  # until the model has the line (its answer takes 30 s)
        if model.last.caller_lines:
            break
        await asyncio.sleep(0.02)
    busy = await http.post(say, headers=JSON, json={"text": "Hello?"})
    assert busy.status_code == 409 and busy.json()["error"] == "busy"
    ended = await http.post(f"{CHAT}/{chat['chat']}/hang-up", headers=JSON, json={})
    assert ended.json()["live"] is False
    cut = await slow
    assert cut.status_code == 409 and cut.json()["error"] == "hung_up"
    assert webhooks(chat_app, chat["session"])[-1] == ("call-end", None)


async def test_stopping_the_app_hangs_up_its_chats(http: httpx.AsyncClient, chat_app: VNSApp) -> None:
    chat = await start(http)
    await chat_app.shutdown()
    assert webhooks(chat_app, chat["session"]) == [("call-start", None), ("call-end", None)]


async def test_behind_the_inspectors_guard(observed_app: ObservedAppFactory) -> None:
    async with client_for(observed_app()) as http:
        assert (await http.get(CHAT, headers=AUTH)).status_code == 404
    app = observed_app(inspector=True)
    async with client_for(app) as http:
        assert (await http.get(CHAT)).status_code == 401
        assert (await http.post(CHAT, headers={"Content-Type": "application/json"}, json={})).status_code == 401
        wrong = {"Authorization": "Basic " + base64.b64encode(b"me:wrong").decode()}
        assert (await http.post(f"{CHAT}/x/say", headers=wrong, json={"text": "Hi"})).status_code == 401


async def test_without_the_realtime_extra_the_panel_says_what_to_install(
    chat_app: VNSApp, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = _chat_room.importlib.util.find_spec
    monkeypatch.setattr(
        _chat_room.importlib.util, "find_spec", lambda name, *rest: None if name == "openai" else find_spec(name, *rest)
    )
    status = (await http.get(CHAT, headers=AUTH)).json()
    assert status["ready"] is False and status["error"] == "no_realtime"
    assert "pip install 'vns-sdk[realtime]'" in status["message"]
    refused = await http.post(CHAT, headers=JSON, json={})
    assert refused.status_code == 503 and refused.json()["message"] == status["message"]
    assert not records(chat_app)


async def test_a_call_the_app_refuses_is_a_clear_message(chat_app: VNSApp, http: httpx.AsyncClient) -> None:
    @chat_app.on_call_start
    async def screen(call: CallContext) -> None:
        if call.caller_id == "9005550000":
            call.refuse("We do not take calls from this number.")

    refused = await http.post(CHAT, headers=JSON, json={"caller_id": "9005550000"})
    assert refused.status_code == 502 and refused.json()["error"] == "app_answer"
    message = refused.json()["message"]
    assert "HTTP 403 (the app refused the call)" in message and "answer:" not in message
    assert (await http.get(CHAT, headers=AUTH)).json()["open"] == 0
    assert (await http.post(CHAT, headers=JSON, json={"caller_id": "3035550142"})).status_code == 201
