"""The lookup example against the harness: its transcripts replay, its scenarios run, its calls print readably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vns_sdk.testing import VNSSimulator, load_app, replay, run_scenarios

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS = Path(__file__).parent / "transcripts"


@pytest.fixture
def lookup_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "another-token-than-when-recorded")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key-than-when-recorded")
    return load_app("examples/lookup/app.py:create_app", base_dir=ROOT)()


def test_a_transcript_recorded_from_the_example_replays_clean(lookup_app: Any) -> None:
    report = replay(TRANSCRIPTS / "lookup-ron.jsonl", app=lookup_app)
    assert report.ok, report.render()
    assert report.render().endswith("All 5 exchanges answered as recorded.")


def test_a_transcript_edited_by_hand_replays_with_a_clear_diff(lookup_app: Any) -> None:
    path = TRANSCRIPTS / "lookup-ron-edited.jsonl"
    report = replay(path, app=lookup_app)
    assert not report.ok
    assert report.render() == "\n".join(
        [
            f"{path}",
            "  ok    line 1   CallStart                            200",
            "  DIFF  line 2   tool lookup_name_or_phone            200",
            "          contactFound: recorded false, now true",
            '          contactName: recorded nothing, now "Ron Tanner"',
            '          phoneNumber: recorded nothing, now "+13035551212"',
            "  DIFF  line 3   tool lookup_name_or_phone            200",
            '          contactName: recorded "Wei Chen (sales)", now "Wei Chen"',
            "  ok    line 4   tool end_conversation                200",
            "  ok    line 5   CallEnd                              200",
            "2 of 5 exchanges did not answer as recorded.",
        ]
    )


def test_the_example_scenarios_pass() -> None:
    report = run_scenarios(ROOT / "examples/lookup/scenarios")
    assert report.ok, report.render()
    assert len(report.results) >= 3


def test_a_simulated_call_prints_each_exchange(lookup_app: Any) -> None:
    with VNSSimulator(lookup_app) as vns, vns.call(caller_id="3032639999", caller_id_name="John Smith") as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    lines = vns.format_exchanges().splitlines()
    assert lines[0].startswith("CallStart POST /vns/call-start  -> 200")
    assert lines[1].startswith('    inbound call from 3032639999 "John Smith" to ')
    assert lines[3] == "       tools: end_conversation, lookup_name_or_phone; tools URL http://testserver/vns/tools"
    assert lines[5].startswith("Tool      POST /vns/tools  -> 200")
    assert lines[6:8] == [
        '    lookup_name_or_phone(name="Ron")',
        '    -> {"matchType": "name", "contactFound": true, '
        '"contactName": "Ron Tanner", "phoneNumber": "+13035551212"}',
    ]
    assert lines[8].startswith("CallEnd   POST /vns/call-end  -> 200")
    assert lines[9:] == ["    status 0", '    -> {"status": 0, "errorMessage": "Success"}']
