"""Fixtures for driving a real `VNSApp` through ASGI: an app factory, a client, the spec's examples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import RON as RON
from support import lookup_tool

from vns_sdk.app import VNSApp, VNSSettings

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
WEBHOOK_TOKEN = "whk-test-token-6f1d2c"
OPENAI_KEY = "sk-test-openai-key-93ab"
AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
SEED_GUID = "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"


def spec(name: str) -> Any:
    """A JSON example of the VNS specification (tests/fixtures/spec/<name>.json)."""
    return json.loads((SPEC / f"{name}.json").read_text())


# Here a tool call without a name or a number is answered (not found), as a body-less request must be.
lookup_name_or_phone = lookup_tool(require_query=False)


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
