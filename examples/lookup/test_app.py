"""The documentation's agent, driven through its ASGI app exactly as VNS drives it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vns_sdk import VNSApp
from vns_sdk.testing import VNSSimulator

from .app import create_app

SPEC = Path(__file__).resolve().parent / "spec"  # the VNS documentation's examples, word for word
TOKEN = "lookup-example-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GUID = "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"
RON = {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}


def spec(name: str) -> Any:
    return json.loads((SPEC / f"{name}.json").read_text())


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> VNSApp:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-example")
    return create_app()


@pytest.fixture
async def http(app: VNSApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://lookup.example.com") as c:
        yield c


async def start(http: httpx.AsyncClient) -> tuple[dict[str, Any], str, dict[str, str]]:
    response = await http.post("/vns/call-start", json=spec("call_start_request"), headers=AUTH)
    assert response.status_code == 200, response.text
    answer = response.json()
    base = answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]
    return answer, base["url"], base["headers"]


def invocation(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": GUID, "customerCallId": None}, **arguments}


async def test_call_start_offers_the_documentation_session(http: httpx.AsyncClient) -> None:
    answer, url, headers = await start(http)
    seed = spec("call_start_response")
    assert answer["session"]["tools"] == seed["session"]["tools"]
    assert answer["session"]["instructions"] == seed["session"]["instructions"]
    assert answer["session"] == seed["session"]
    assert answer["VoiceElements_Instructions"]["aiUrl"]["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert url == "https://lookup.example.com/vns/tools"
    assert headers["Authorization"].startswith("Bearer ")


async def test_ron_answers_the_documentation_reply(http: httpx.AsyncClient) -> None:
    _, url, headers = await start(http)
    response = await http.post(url, json=invocation("lookup_name_or_phone", name="Ron"), headers=headers)
    assert response.status_code == 200
    assert response.json() == RON == spec("tool_reply")


@pytest.mark.parametrize("number", ["+13035551212", "303-555-1212", "(303) 555 1212", "13035551212"])
async def test_phone_lookup(http: httpx.AsyncClient, number: str) -> None:
    _, url, headers = await start(http)
    response = await http.post(url, json=invocation("lookup_name_or_phone", phoneNumber=number), headers=headers)
    assert response.json() == RON | {"matchType": "phone"}


async def test_not_found_and_nothing_to_look_up(http: httpx.AsyncClient) -> None:
    _, url, headers = await start(http)
    nobody = await http.post(url, json=invocation("lookup_name_or_phone", name="Zed"), headers=headers)
    no_number = await http.post(
        url, json=invocation("lookup_name_or_phone", phoneNumber="+19995550000"), headers=headers
    )
    nothing = await http.post(url, json=invocation("lookup_name_or_phone"), headers=headers)
    assert nobody.json() == {"matchType": "name", "contactFound": False}
    assert no_number.json() == {"matchType": "phone", "contactFound": False}
    assert nothing.status_code == 200
    assert nothing.json() == {
        "error": "tool_error",
        "message": "Ask the caller for the name or the phone number to look up.",
    }


async def test_a_whole_call(http: httpx.AsyncClient, app: VNSApp) -> None:
    _, url, headers = await start(http)
    assert (await http.post(f"{url}/lookup_name_or_phone", json={"name": "Maria"}, headers=headers)).json()[
        "phoneNumber"
    ] == "+17205550134"
    bye = await http.post(url, json=invocation("end_conversation", user_input="Goodbye"), headers=headers)
    assert bye.status_code == 200
    end = await http.post("/vns/call-end", json=spec("call_end_request") | {"sessionGuid": GUID}, headers=AUTH)
    assert end.json() == {"status": 0, "errorMessage": "Success"}


def test_simulated_call(app: VNSApp) -> None:
    with VNSSimulator(app) as vns, vns.call(caller_id="3032639999") as call:
        assert call.invoke("lookup_name_or_phone", name="Ron") == RON
        assert call.invoke("lookup_name_or_phone", phoneNumber="+13035551212")["contactName"] == "Ron Tanner"
        call.invoke("end_conversation", user_input="That is all, thanks")


async def test_without_a_token_the_demo_runs_insecure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN", raising=False)
    monkeypatch.delenv("VNS_WEBHOOK_BASIC_AUTH", raising=False)
    app = create_app()
    assert app.settings.insecure_dev is True
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        response = await http.post("/vns/call-start", json=spec("call_start_request"))
    assert response.status_code == 200
