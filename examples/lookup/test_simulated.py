"""Whole simulated calls to the lookup agent, with the fixtures vns-sdk gives pytest (no phone, no accounts).

``vns`` is a VNS simulator bound to the app of the ``vns_app`` fixture below; ``vns_call`` is a call it
has already placed. The scenario files in ``scenarios/`` run as tests of their own, too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vns_sdk import VNSApp
from vns_sdk.testing import SimulatedCall, SimulationError, VNSSimulator, replay

from .app import INSTRUCTIONS, create_app

RON = {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}
SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.vns.*"))


@pytest.fixture
def vns_app(monkeypatch: pytest.MonkeyPatch) -> VNSApp:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "lookup-example-token")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-example-key-for-tests")
    return create_app()


def test_ron_by_name(vns_call: SimulatedCall) -> None:
    vns_call.assert_reply("lookup_name_or_phone", name="Ron", expect=RON)


def test_the_call_starts_as_the_documentation_shows(vns_call: SimulatedCall) -> None:
    assert vns_call.instructions == INSTRUCTIONS
    assert list(vns_call.tools) == ["end_conversation", "lookup_name_or_phone"]
    assert set(vns_call.tools["lookup_name_or_phone"].parameters["properties"]) == {"name", "phoneNumber"}
    ai_url = vns_call.response.voice_elements_instructions.ai_url
    assert ai_url.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert ai_url.headers == {"Authorization": "Bearer sk-example-key-for-tests"}


def test_the_model_hears_the_reply_as_a_function_call_output(vns_call: SimulatedCall) -> None:
    reply = vns_call.invoke("lookup_name_or_phone", phoneNumber="(303) 555-1212")
    event = vns_call.model_event(reply, call_id="call_7")
    assert event["type"] == "conversation.item.create"
    assert event["item"]["call_id"] == "call_7"
    assert json.loads(event["item"]["output"]) == {**RON, "matchType": "phone"}


def test_nobody_found_and_nothing_to_look_up(vns_call: SimulatedCall) -> None:
    vns_call.assert_reply("lookup_name_or_phone", name="Zelda", expect={"matchType": "name", "contactFound": False})
    reply = vns_call.invoke("lookup_name_or_phone")
    assert reply["error"] == "tool_error"
    assert reply["message"] == "Ask the caller for the name or the phone number to look up."


def test_arguments_the_schema_does_not_declare_fail_the_test(vns_call: SimulatedCall) -> None:
    with pytest.raises(SimulationError, match="'phone_number' is not a parameter the schema declares"):
        vns_call.invoke("lookup_name_or_phone", phone_number="+13035551212")


def test_the_caller_says_goodbye(vns_call: SimulatedCall) -> None:
    assert vns_call.invoke("end_conversation", user_input="That's all, bye!") is not None
    assert vns_call.end(status=0) == {"status": 0, "errorMessage": "Success"}


@pytest.mark.vns_call(outbound=True, customer_call_id="reminder-42", called_number="3032639999")
def test_an_outbound_call(vns_call: SimulatedCall) -> None:
    assert vns_call.outbound and vns_call.customer_call_id == "reminder-42"
    vns_call.assert_reply("lookup_name_or_phone", name="Wei", expect={"contactName": "Wei Chen"}, partial=True)


@pytest.mark.parametrize("adapter", ["/<<toolname>>", "?toolname=<<toolname>>&sessionguid=<<sessionguid>>"])
def test_tools_url_adapters(monkeypatch: pytest.MonkeyPatch, vns_app: VNSApp, adapter: str) -> None:
    monkeypatch.setenv("VNS_TOOLS_URL_ADAPTER", adapter)
    app = create_app()
    with VNSSimulator(app) as vns, vns.call() as call:
        assert call.invoke("lookup_name_or_phone", name="Ron") == RON
    assert call.exchanges[1].path.startswith("/vns/tools")
    assert "lookup_name_or_phone" in call.exchanges[1].path


async def test_async_calls(vns: VNSSimulator) -> None:
    async with vns.acall(caller_id="7205550134") as call:
        reply = await call.invoke("lookup_name_or_phone", phoneNumber="7205550134")
        assert reply["contactName"] == "Maria Garcia"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[path.name for path in SCENARIOS])
def test_scenarios_against_the_configured_app(vns: VNSSimulator, scenario: Path) -> None:
    vns.run_scenario(scenario)


def test_a_recorded_call_replays_clean(vns_app: VNSApp, tmp_path: Path) -> None:
    transcript = tmp_path / "ron.jsonl"
    with VNSSimulator(vns_app, record=transcript) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    assert "sk-example-key-for-tests" not in transcript.read_text()
    report = replay(transcript, app=create_app())
    assert report.ok, report.render()
