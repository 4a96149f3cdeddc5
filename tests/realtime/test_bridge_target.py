"""Where the bridge connects: the CallStart answer's aiUrl and headers, an override, the key fallback."""

from __future__ import annotations

import pytest

from vns_sdk.realtime import BridgeError, resolve_target
from vns_sdk.realtime._target import connect

OPENAI = "wss://api.openai.com/v1/realtime?model=gpt-realtime"


def test_the_answers_url_and_headers_are_used_as_they_are(no_openai_environment: None) -> None:
    headers = {"Authorization": "Bearer sk-answer-0123456789", "OpenAI-Project": "proj_1"}
    target = resolve_target(OPENAI, headers)
    assert (target.url, target.headers, target.model) == (OPENAI, headers, "gpt-realtime")
    assert not target.key_from_environment
    assert target.where == "wss://api.openai.com/v1/realtime"
    assert "sk-answer" not in repr(target)


def test_an_override_changes_the_url_only(no_openai_environment: None) -> None:
    target = resolve_target(OPENAI, {"api-key": "azure-0123"}, url="ws://127.0.0.1:9/v1/realtime?model=m")
    assert (target.url, target.headers, target.model) == (
        "ws://127.0.0.1:9/v1/realtime?model=m",
        {"api-key": "azure-0123"},
        "m",
    )


def test_a_query_with_a_key_is_not_shown() -> None:
    target = resolve_target("wss://gw.example.com/rt?model=m&api_key=secret", {"API-Key": "x"})
    assert target.where == "wss://gw.example.com/rt"


def test_without_a_key_in_the_answer_the_environment_gives_one(
    no_openai_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BridgeError) as failed:
        resolve_target(OPENAI, {"X-Other": "1"})
    assert failed.value.reason == "no_key"
    assert failed.value.message.startswith("No OpenAI key: the CallStart answer's aiUrl has no Authorization")
    assert resolve_target(OPENAI, {}, api_key="sk-given-0123").headers == {"Authorization": "Bearer sk-given-0123"}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-0123")
    target = resolve_target(OPENAI, {"X-Other": "1"})
    assert target.headers == {"X-Other": "1", "Authorization": "Bearer sk-env-0123"}
    assert target.key_from_environment


@pytest.mark.parametrize("url", ["https://api.openai.com/v1/realtime?model=m", "wss://", "api.openai.com/v1/realtime"])
def test_a_url_that_is_not_a_websocket_url_is_refused(url: str) -> None:
    with pytest.raises(BridgeError, match=r"must be a ws:// or wss:// URL") as failed:
        resolve_target(url, {"Authorization": "Bearer sk-0123456789"})
    assert failed.value.reason == "unreachable"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("wss://agent:pass-4d2e@gw.example.com:8443/rt?model=m", "wss://gw.example.com:8443/rt"),
        ("wss://agent@gw.example.com/rt", "wss://gw.example.com/rt"),
        ("ws://:pass-4d2e@[::1]:9000/v1/realtime", "ws://[::1]:9000/v1/realtime"),
    ],
)
def test_a_user_and_password_in_the_url_are_not_shown(url: str, where: str) -> None:
    assert resolve_target(url, {"API-Key": "x"}).where == where


def test_a_refused_url_is_named_without_its_password() -> None:
    with pytest.raises(BridgeError) as failed:
        resolve_target("https://agent:pass-4d2e@gw.example.com/rt", {"API-Key": "x"})
    assert failed.value.message == "The Realtime URL must be a ws:// or wss:// URL, got https://gw.example.com/rt"


async def test_a_connection_that_fails_is_named_without_the_urls_password() -> None:
    target = resolve_target("ws://agent:pass-4d2e@127.0.0.1:9/v1/realtime?model=m", {"API-Key": "x"})
    with pytest.raises(BridgeError) as failed:
        await connect(target, timeout=5)
    assert "ws://127.0.0.1:9/v1/realtime" in failed.value.message
    assert "pass-4d2e" not in failed.value.message and "agent" not in failed.value.message
