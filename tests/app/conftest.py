"""Fixtures for driving a real `VNSApp` through ASGI: an app factory, a client, the spec's examples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from pydantic import Field

from vns_sdk.app import VNSApp, VNSSettings
from vns_sdk.context import CallContext

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
WEBHOOK_TOKEN = "whk-test-token-6f1d2c"
OPENAI_KEY = "sk-test-openai-key-93ab"
AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
SEED_GUID = "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"
RON = {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}


def spec(name: str) -> Any:
    """A JSON example of the VNS specification (tests/fixtures/spec/<name>.json)."""
    return json.loads((SPEC / f"{name}.json").read_text())


async def lookup_name_or_phone(
    call: CallContext,
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, Any]:
    """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    call.state["lookups"] = call.state.get("lookups", 0) + 1
    if (name and "ron" in name.lower()) or phone_number == "+13035551212":
        return dict(RON)
    return {"matchType": "name" if name else "phone", "contactFound": False}


@pytest.fixture
def settings() -> VNSSettings:
    """Settings that ignore the environment of the machine running the tests."""
    return VNSSettings.model_construct(
        **{name: field.get_default(call_default_factory=True) for name, field in VNSSettings.model_fields.items()}
    )


AppFactory = Callable[..., VNSApp]


@pytest.fixture
def make_app(settings: VNSSettings) -> AppFactory:
    """Build a `VNSApp` with a webhook token, an OpenAI key and the lookup tool, unless told otherwise."""

    def make(*, lookup: bool = True, **kwargs: Any) -> VNSApp:
        kwargs.setdefault("webhook_token", WEBHOOK_TOKEN)
        kwargs.setdefault("openai_api_key", OPENAI_KEY)
        kwargs.setdefault("end_conversation", True)
        kwargs.setdefault("instructions", "You are a friendly agent.")
        kwargs.setdefault("settings", settings)
        app = VNSApp(**kwargs)
        if lookup:
            app.add_tool(lookup_name_or_phone)
        return app

    return make


@pytest.fixture
def app(make_app: AppFactory) -> VNSApp:
    return make_app()


def client_for(app: Any, base_url: str = "https://agent.example.com") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def client(app: VNSApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


async def start_call(
    http: httpx.AsyncClient, guid: str = SEED_GUID, prefix: str = "/vns", **fields: Any
) -> dict[str, Any]:
    """POST a CallStart (the spec's example with ``guid``) and return the answer's JSON."""
    body = spec("call_start_request") | {"sessionGuid": guid} | fields
    response = await http.post(f"{prefix}/call-start", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def tools_base(answer: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The tools URL and headers of a CallStart answer."""
    base = answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]
    return base["url"], base["headers"]
