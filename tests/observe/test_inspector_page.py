"""The inspector: served only when switched on, behind the credentials, offline, secrets masked, memory bounded."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from observe_support import OPENAI_KEY, WEBHOOK_TOKEN, ObservedAppFactory, records

from vns_sdk import VNSApp
from vns_sdk._observe import _copy, _feed, _inspector
from vns_sdk._transcript import read_transcript
from vns_sdk.testing import VNSSimulator, run_scenario

GUID = "6c0ffee0-5d2b-4d8a-a1b2-3c4d5e6f7a8b"
PAGE = "/vns/inspector/"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent")


def place_call(app: VNSApp) -> str:
    """A call of each kind of tool call; returns the tool token VNS was given."""
    with VNSSimulator(app) as vns, vns.call(session_guid=GUID, caller_id="3035550142", caller_id_name="Ada") as call:
        token = call.response.voice_elements_instructions.default_tools_url_base.headers["Authorization"]
        call.invoke("lookup_name_or_phone", name="Ron")
        call.invoke("check_order", order="A100")
        call.invoke("check_order", order="Z9")
        call.invoke("slow_search", query="invoices")
    return str(token)


async def test_off_unless_switched_on(observed_app: ObservedAppFactory) -> None:
    async with client(observed_app()) as http:
        assert (await http.get(PAGE)).status_code == 404
        assert (await http.get("/vns/inspector/events")).status_code == 404


async def test_behind_the_webhook_credentials(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    async with client(app) as http:
        refused = await http.get(PAGE)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Basic realm="vns-sdk inspector"')
        assert WEBHOOK_TOKEN not in refused.text
        assert (await http.get(PAGE, headers=basic("me", "wrong"))).status_code == 401
        assert (await http.get(PAGE, headers={"Authorization": "Basic %%%"})).status_code == 401
        assert (await http.get("/vns/inspector/events", headers=basic("me", "wrong"))).status_code == 401
        # A browser: any user name, the webhook token as the password. A script: the token as VNS sends it.
        assert (await http.get(PAGE, headers=basic("me", WEBHOOK_TOKEN))).status_code == 200
        assert (await http.get(PAGE, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})).status_code == 200
        # The bare path leads to the page's folder, where its script and stream are found.
        moved = await http.get("/vns/inspector")
        assert moved.status_code == 307
        assert moved.headers["location"].endswith(PAGE)


async def test_basic_pairs_open_it_too(observed_app: ObservedAppFactory) -> None:
    app = observed_app(webhook_token=None, webhook_basic_auth="vns:pair-password-88", inspector=True)
    async with client(app) as http:
        assert (await http.get(PAGE, headers=basic("vns", "pair-password-88"))).status_code == 200
        assert (await http.get(PAGE, headers=basic("other", "pair-password-88"))).status_code == 401


async def test_open_in_insecure_development(observed_app: ObservedAppFactory) -> None:
    app = observed_app(webhook_token=None, insecure_dev=True, inspector=True)
    async with client(app) as http:
        assert (await http.get(PAGE)).status_code == 200


async def test_the_page_loads_nothing_from_elsewhere(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    auth = basic("me", WEBHOOK_TOKEN)
    async with client(app) as http:
        page = await http.get(PAGE, headers=auth)
        script = await http.get(PAGE + "inspector.js", headers=auth)
        style = await http.get(PAGE + "inspector.css", headers=auth)
    assert page.headers["content-type"].startswith("text/html")
    assert script.status_code == style.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in script.headers["content-security-policy"]
    for asset in resources.files("vns_sdk._observe").joinpath("static").iterdir():
        text = asset.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), f"{asset.name} loads something from elsewhere"
        assert "@import" not in text and "url(http" not in text


async def test_the_feed_shows_a_whole_call_with_secrets_masked(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    token = place_call(app)
    seen = records(app)
    text = json.dumps(seen)
    for secret in (WEBHOOK_TOKEN, OPENAI_KEY, token.removeprefix("Bearer ")):
        assert secret not in text
    ends = [record for record in seen if record["phase"] == "end"]
    webhooks = [record for record in ends if record["kind"] == "webhook"]
    assert [record["name"] for record in webhooks] == ["call-start"] + ["tools"] * 4 + ["call-end"]
    assert all(record["session"] == GUID for record in ends)
    start = webhooks[0]
    assert start["request"]["callerIdName"] == "Ada"
    answer = start["response"]["VoiceElements_Instructions"]
    assert answer["aiUrl"]["headers"]["Authorization"] == "Bearer <redacted>"
    assert answer["defaultToolsUrlBase"]["headers"]["Authorization"] == "Bearer <redacted>"
    assert start["headers"]["authorization"] == "Bearer <redacted>"
    tools = {record["tool"]: record for record in ends if record["kind"] == "tool"}
    assert tools["lookup_name_or_phone"]["outcome"] == "ok"
    assert tools["slow_search"]["outcome"] == "timeout"
    lookup_webhook = next(record for record in webhooks if record["tool"] == "lookup_name_or_phone")
    assert lookup_webhook["request"]["name"] == "Ron"
    assert lookup_webhook["response"]["contactName"] == "Ron Tanner"  # what the model heard
    assert tools["lookup_name_or_phone"]["parent"] == lookup_webhook["oid"]
    # The state the tool changed, as a child of its webhook.
    saved = [r for r in ends if r["kind"] == "store" and r["operation"] == "save_call"]
    assert saved[0]["state"] == {"lookups": 1}
    assert saved[0]["parent"] == lookup_webhook["oid"]
    # A running tool was shown before it ended; a webhook's end record brings what ran inside it.
    begins = [record for record in seen if record["phase"] == "begin" and record["kind"] == "tool"]
    assert [record["tool"] for record in begins][-1] == "slow_search"
    assert {child["oid"] for child in lookup_webhook["children"]} == {
        record["oid"] for record in ends if record["parent"] == lookup_webhook["oid"]
    }


def test_its_memory_is_bounded(observed_app: ObservedAppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = observed_app(inspector=True)
    feed = app._runtime.feed
    assert feed is not None
    feed.size = 12
    place_call(app)
    kept = feed.since(0)
    assert len(kept) == 12
    assert kept[-1][0] > 12  # the newest are kept, numbered on
    assert feed.since(kept[-1][0]) == []
    monkeypatch.setattr(_feed, "MAX_BYTES", 4000)
    feed.publish({"kind": "note", "blob": "x" * 3000})
    assert sum(len(text) for _, text in feed.since(0)) <= 4000


def test_a_body_too_large_is_shown_by_its_size(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    with VNSSimulator(app) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="R" * 300_000)
    tool_webhook = [r for r in records(app) if r["kind"] == "webhook" and r.get("tool") and r["phase"] == "end"][0]
    assert set(tool_webhook["request"]) == {"(not shown)"}
    assert tool_webhook["request"]["(not shown)"].endswith(" bytes")


async def test_the_event_stream(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    feed = app._runtime.feed
    assert feed is not None
    stream = _inspector._stream(feed, 0)
    assert await anext(stream) == "retry: 1000\n\n"
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # nothing yet: it waits
    feed.publish({"kind": "note"})
    chunk = await asyncio.wait_for(waiting, 5)
    assert chunk.startswith("id: 1\ndata: {") and chunk.endswith("\n\n")
    assert json.loads(chunk.split("data: ", 1)[1]) == {"kind": "note", "id": 1}
    await stream.aclose()
    # A page that reconnects says what it has seen (Last-Event-ID) and gets only the rest.
    feed.publish({"kind": "note"})
    again = _inspector._stream(feed, 1)
    await anext(again)
    assert (await anext(again)).startswith("id: 2\n")
    await again.aclose()


async def test_a_call_copied_as_a_scenario_passes(observed_app: ObservedAppFactory, tmp_path: Path) -> None:
    app = observed_app(inspector=True)
    await asyncio.to_thread(place_call, app)
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    async with client(app) as http:
        scenario = await http.get(f"{PAGE}calls/{GUID}/scenario.vns.yaml", headers=auth)
        transcript = await http.get(f"{PAGE}calls/{GUID}/transcript.jsonl", headers=auth)
        unknown = await http.get(f"{PAGE}calls/nope/scenario.vns.yaml", headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_call"
    data = yaml.safe_load(scenario.text)
    assert (data["caller"]["caller_id"], data["caller"]["caller_id_name"]) == ("3035550142", "Ada")
    assert data["tools"] == ["end_conversation", "lookup_name_or_phone", "crm_lookup", "slow_search", "check_order"]
    assert [step["tool"] for step in data["steps"]] == [
        "lookup_name_or_phone",
        "check_order",
        "check_order",
        "slow_search",
    ]
    assert data["steps"][0] == {
        "tool": "lookup_name_or_phone",
        "arguments": {"name": "Ron"},
        "expect": {
            "matchType": "name",
            "contactFound": True,
            "contactName": "Ron Tanner",
            "phoneNumber": "+13035551212",
        },
    }
    path = tmp_path / "copied.vns.yaml"
    path.write_text(scenario.text, encoding="utf-8")
    result = await asyncio.to_thread(run_scenario, path, app=app)
    assert result.ok, result.render()

    lines = tmp_path / "copied.jsonl"
    lines.write_text(transcript.text, encoding="utf-8")
    exchanges = read_transcript(lines)
    assert [exchange.kind for exchange in exchanges] == ["call_start"] + ["tool"] * 4 + ["call_end"]
    assert WEBHOOK_TOKEN not in transcript.text and OPENAI_KEY not in transcript.text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", json.loads(transcript.text.splitlines()[0])["at"])


async def test_a_stream_ends_in_time(observed_app: ObservedAppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # So an open page never holds a server's shutdown: the page reconnects from where it was.
    monkeypatch.setattr(_inspector, "STREAM_SECONDS", 0.05)
    monkeypatch.setattr(_inspector, "KEEP_ALIVE_SECONDS", 0.01)
    feed = observed_app(inspector=True)._runtime.feed
    assert feed is not None
    chunks = [chunk async for chunk in _inspector._stream(feed, 0)]
    assert chunks[0] == "retry: 1000\n\n"
    assert set(chunks[1:]) <= {": keep-alive\n\n"}


def test_calls_a_scenario_cannot_place_are_left_out(observed_app: ObservedAppFactory) -> None:
    app = observed_app(inspector=True)
    with VNSSimulator(app) as vns, vns.call(session_guid=GUID) as call:
        call.invoke("check_order", order="A100")
        assert call.invoke_raw("no_such_tool").json()["error"] == "unknown_tool"
        assert call.invoke_raw("check_order", {"order": ["not", "text"]}).json()["error"] == "invalid_arguments"
        assert call.invoke_raw("check_order", {"order": "A100"}, headers={"Authorization": None}).status_code == 401
    feed = app._runtime.feed
    assert feed is not None
    text = _copy.scenario_text(feed.records(GUID), session_guid=GUID)
    assert "# Left out: no_such_tool (unknown_tool), check_order (invalid_arguments).\n" in text
    assert [step["tool"] for step in yaml.safe_load(text)["steps"]] == ["check_order"]
