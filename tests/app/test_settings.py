"""Configuration: every setting falls back to the environment, explicit arguments win."""

from __future__ import annotations

import pytest

from tests.app.conftest import client_for, spec, tools_base
from vns_sdk.app import VNSApp, VNSSettings
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.state import MemoryCallStateStore

ENV = {
    "OPENAI_API_KEY": "sk-env-key-1",
    "VNS_WEBHOOK_TOKEN": "env-token-new, env-token-old",
    "VNS_PUBLIC_URL": "https://env.example.com",
    "VNS_PREFIX": "/voice",
    "VNS_MODEL": "gpt-realtime-mini",
    "VNS_VOICE": "cedar",
    "VNS_MAX_SECONDS": "240",
    "VNS_INSTRUCTIONS": "From the environment.",
    "VNS_TOOLS_URL_ADAPTER": "/<<toolname>>",
    "VNS_API_URL": "https://api.example.com/dial",
    "VNS_API_TOKEN": "env-api-token",
    "VNS_TOOL_TIMEOUT": "4.5",
    "VNS_CALL_START_TIMEOUT": "1.5",
    "VNS_MAX_BODY_SIZE": "4096",
    "VNS_TRUST_FORWARDED_HEADERS": "true",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("env")
async def test_settings_come_from_the_environment() -> None:
    settings = VNSSettings()
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-env-key-1"
    assert [token.get_secret_value() for token in settings.webhook_token] == ["env-token-new", "env-token-old"]
    assert "env-token" not in repr(settings) and "sk-env" not in repr(settings)
    assert (settings.max_seconds, settings.tool_timeout, settings.max_body_size) == (240, 4.5, 4096)
    assert settings.trust_forwarded_headers is True

    app = VNSApp()
    assert app.prefix == "/voice"
    async with client_for(app) as http:
        response = await http.post(
            "/voice/call-start", json=spec("call_start_request"), headers={"Authorization": "Bearer env-token-old"}
        )
    answer = response.json()
    instructions = answer["VoiceElements_Instructions"]
    assert instructions["aiUrl"] == {
        "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
        "headers": {"Authorization": "Bearer sk-env-key-1"},
    }
    assert instructions["maxSeconds"] == 240
    assert instructions["defaultToolsUrlBase"]["url"] == "https://env.example.com/voice/tools"
    assert instructions["defaultToolsUrlAdapter"] == "/<<toolname>>"
    assert answer["session"]["instructions"] == "From the environment."
    assert answer["session"]["audio"]["output"]["voice"] == "cedar"


@pytest.mark.usefixtures("env")
async def test_explicit_arguments_win() -> None:
    app = VNSApp(
        openai_api_key="sk-explicit",
        webhook_token="explicit-token",
        public_url="https://explicit.example.com",
        prefix="/vns",
        model="gpt-realtime",
        voice="alloy",
        max_seconds=60,
        tools_url_adapter=None,
    )
    async with client_for(app) as http:
        refused = await http.post(
            "/vns/call-start", json=spec("call_start_request"), headers={"Authorization": "Bearer env-token-new"}
        )
        response = await http.post(
            "/vns/call-start", json=spec("call_start_request"), headers={"Authorization": "Bearer explicit-token"}
        )
    assert refused.status_code == 401
    instructions = response.json()["VoiceElements_Instructions"]
    assert instructions["aiUrl"]["headers"] == {"Authorization": "Bearer sk-explicit"}
    assert instructions["maxSeconds"] == 60
    assert tools_base(response.json())[0] == "https://explicit.example.com/vns/tools"
    # tools_url_adapter=None means "not given": the environment's adapter still applies.
    assert instructions["defaultToolsUrlAdapter"] == "/<<toolname>>"


async def test_settings_object_replaces_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_MODEL", "from-env")
    settings = VNSSettings(model="from-settings", webhook_token="settings-token")  # type: ignore[arg-type]
    app = VNSApp(settings=settings, voice="ash")
    assert app.settings.model == "from-settings" and app.settings.voice == "ash"
    assert app.build_session().model == "from-settings"


def test_insecure_dev_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN", raising=False)
    monkeypatch.delenv("VNS_WEBHOOK_BASIC_AUTH", raising=False)
    monkeypatch.setenv("VNS_INSECURE_DEV", "0")
    with pytest.raises(ConfigurationError):
        VNSApp()
    monkeypatch.setenv("VNS_INSECURE_DEV", "1")
    assert VNSApp().settings.insecure_dev is True


def test_invalid_settings_raise_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "token-1")
    with pytest.raises(ConfigurationError, match="max_seconds"):
        VNSApp(max_seconds=0)
    with pytest.raises(ConfigurationError, match="tools_url_adapter"):
        VNSApp(tools_url_adapter="/<<callid>>")
    with pytest.raises(ConfigurationError, match="session"):
        VNSApp(session={"audio": {"output": {"speed": 9}}})


def test_the_store_follows_the_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("redis")
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "token-1")
    assert isinstance(VNSApp().store, MemoryCallStateStore)
    monkeypatch.setenv("VNS_REDIS_URL", "redis://127.0.0.1:1/0")
    from vns_sdk.state import RedisCallStateStore

    assert isinstance(VNSApp().store, RedisCallStateStore)  # built lazily: nothing connects yet
    given = MemoryCallStateStore()
    assert VNSApp(state_store=given).store is given


def test_webhook_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "token-1")
    app = VNSApp(prefix="/hooks")
    assert app.webhook_urls("https://agent.example.com/") == {
        "call_start": "https://agent.example.com/hooks/call-start",
        "call_end": "https://agent.example.com/hooks/call-end",
        "tools": "https://agent.example.com/hooks/tools",
    }
    assert VNSApp(prefix="/").prefix == ""
