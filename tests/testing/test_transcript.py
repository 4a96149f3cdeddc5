"""Record and replay: transcripts without secrets, clean replays, and clear diffs when the app changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from harness_apps import OPENAI_KEY, TOOL_TOKEN, WEBHOOK_TOKEN, FakeVNSApp, build_lookup_app

from vns_sdk import VNSApp
from vns_sdk.testing import RecordingMiddleware, VNSSimulator, read_transcript, replay


def record_call(app: Any, path: Path, **call: Any) -> None:
    with VNSSimulator(app, record=path) as vns, vns.call(caller_id="3032639999", **call) as active:
        active.invoke("lookup_name_or_phone", name="Ron")
        active.invoke("lookup_name_or_phone", phoneNumber="+17205550100")
        active.invoke("whoami")


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_recorded_call_is_json_lines_without_secrets(lookup_app: VNSApp, tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(lookup_app, path)
    records = lines_of(path)
    assert [record["kind"] for record in records] == ["call_start", "tool", "tool", "tool", "call_end"]
    assert records[1]["tool"] == "lookup_name_or_phone"
    assert records[1]["request"]["path"] == "/vns/tools"
    assert records[1]["request"]["body"]["name"] == "Ron"
    assert records[1]["response"] == {
        "status": 200,
        "body": {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"},
    }
    assert all(record["elapsed_ms"] >= 0 for record in records)
    assert records[0]["request"]["headers"]["Authorization"] == "Bearer <redacted>"
    instructions = records[0]["response"]["body"]["VoiceElements_Instructions"]
    assert instructions["aiUrl"]["headers"] == {"Authorization": "Bearer <redacted>"}
    assert instructions["defaultToolsUrlBase"]["headers"] == {"Authorization": "Bearer <redacted>"}
    text = path.read_text()
    assert OPENAI_KEY not in text and WEBHOOK_TOKEN not in text
    issued = lookup_app_tool_token(text)
    assert issued is None


def lookup_app_tool_token(text: str) -> str | None:
    # Any long token-looking value left in the file would be a leak.
    for record in map(json.loads, text.splitlines()):
        for value in record["request"]["headers"].values():
            if value.startswith("Bearer ") and value != "Bearer <redacted>":
                return str(value)
    return None


def test_a_transcript_replays_clean(lookup_app: VNSApp, tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(lookup_app, path)
    report = replay(path, app=build_lookup_app())  # a fresh app: new tool tokens, new process state
    assert report.ok, report.render()
    assert len(report.exchanges) == 5
    assert report.render().endswith("All 5 exchanges answered as recorded.")


def test_a_hand_edited_transcript_replays_with_a_clear_diff(lookup_app: VNSApp, tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(lookup_app, path)
    records = lines_of(path)
    records[1]["response"]["body"]["contactName"] = "Ronald Tanner"
    records[2]["response"]["body"]["loyaltyTier"] = "gold"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))

    report = replay([path], app=lookup_app)
    assert not report.ok
    assert [exchange.ok for exchange in report.exchanges] == [True, False, False, True, True]
    text = report.render()
    assert f"{path}\n" in text
    assert "  DIFF  line 2   tool lookup_name_or_phone" in text
    assert '          contactName: recorded "Ronald Tanner", now "Ron Tanner"' in text
    assert '          loyaltyTier: recorded "gold", now nothing' in text
    assert text.endswith("2 of 5 exchanges did not answer as recorded.")


def test_replay_shows_a_changed_status_and_a_tool_that_went_away(tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(build_lookup_app(), path)
    report = replay(path, app=build_lookup_app(with_whoami=False))
    text = report.render()
    assert not report.ok
    assert "the app no longer offers the tool 'whoami'" in text


def test_replay_maps_outbound_ids_and_adapters(tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    app = build_lookup_app(tools_url_adapter="/<<sessionguid>>/<<toolname>>/<<customerCallId>>")
    record_call(app, path, outbound=True, customer_call_id="order-42")
    records = lines_of(path)
    del records[3]["tool"]  # a recording middleware cannot always name the tool: the URL does
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    report = replay(path, app=build_lookup_app(tools_url_adapter="/<<toolname>>"))
    # The tools are called through the adapter the app answers now; only the answer's adapter differs.
    assert [exchange.ok for exchange in report.exchanges] == [False, True, True, True, True], report.render()
    assert report.exchanges[0].differences == [
        "VoiceElements_Instructions.defaultToolsUrlAdapter: "
        'recorded "/<<sessionguid>>/<<toolname>>/<<customerCallId>>", now "/<<toolname>>"'
    ]
    assert "line 4   tool whoami" in report.render()
    assert replay(path, app=app).ok


def test_exchanges_without_their_call_start_are_reported(lookup_app: VNSApp, tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(lookup_app, path)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    report = replay(path, app=lookup_app)
    assert not report.ok
    assert "not replayed: no CallStart of this call is in the transcript" in report.render()


def test_a_broken_line_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"kind": "tool"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not a transcript line"):
        read_transcript(path)


def test_recording_middleware_writes_what_the_app_answered(tmp_path: Path) -> None:
    path = tmp_path / "prod.jsonl"
    fake = FakeVNSApp()
    recorded_app = RecordingMiddleware(fake, path)
    with VNSSimulator(recorded_app, prefix="/hooks", webhook_token=WEBHOOK_TOKEN) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    records = lines_of(path)
    assert [record["kind"] for record in records] == ["call_start", "tool", "call_end"]
    assert records[1]["tool"] == "lookup_name_or_phone"
    assert records[1]["response"] == {"status": 200, "body": {"contactFound": True}}
    text = path.read_text()
    assert WEBHOOK_TOKEN not in text and TOOL_TOKEN not in text and OPENAI_KEY not in text
    replayed = replay(path, app=FakeVNSApp(), webhook_token=WEBHOOK_TOKEN)  # its routes are under /hooks
    assert replayed.ok, replayed.render()


def test_recording_middleware_leaves_other_routes_alone(lookup_app: VNSApp, tmp_path: Path) -> None:
    import httpx

    path = tmp_path / "prod.jsonl"
    app = RecordingMiddleware(lookup_app, path, prefix="/vns")

    async def health() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return (await client.get("/vns/health")).status_code

    import anyio

    assert anyio.run(health) == 200
    assert path.read_text() == ""


def test_a_refused_call_start_is_shown_not_diffed(lookup_app: VNSApp, tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    record_call(lookup_app, path)
    report = replay(path, app=lookup_app, webhook_token="not-the-token")
    first = report.exchanges[0]
    assert first.status == 401
    assert first.differences == [
        "HTTP status: recorded 200, now 401",
        'answer now: {"error": "unauthorized", "message": "Missing or wrong webhook credentials."}',
    ]
    assert all(exchange.error == "not replayed: CallStart failed" for exchange in report.exchanges[1:])
