"""Security and bad input on the webhook routes: credentials, limits, errors, and secrets kept out of logs."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest

from tests.app.conftest import (
    AUTH,
    OPENAI_KEY,
    SEED_GUID,
    WEBHOOK_TOKEN,
    AppFactory,
    client_for,
    spec,
    start_call,
    tools_base,
)
from vns_sdk.app import VNSApp, VNSSettings
from vns_sdk.context import CallContext
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.state import MemoryCallStateStore

ROUTES = ["/vns/call-start", "/vns/call-end"]


def body_for(route: str) -> dict[str, Any]:
    return spec("call_start_request") if route.endswith("start") else spec("call_end_request")


@pytest.mark.parametrize("route", ROUTES)
async def test_webhooks_need_the_token(client: httpx.AsyncClient, route: str) -> None:
    cases: dict[str, dict[str, str]] = {
        "missing": {},
        "wrong": {"Authorization": "Bearer not-the-token"},
        "prefix of it": {"Authorization": f"Bearer {WEBHOOK_TOKEN[:-1]}"},
        "no scheme": {"Authorization": WEBHOOK_TOKEN},
        "basic": {"Authorization": "Basic " + base64.b64encode(f"vns:{WEBHOOK_TOKEN}".encode()).decode()},
        "other header": {"X-Token": WEBHOOK_TOKEN},
    }
    for name, headers in cases.items():
        response = await client.post(route, json=body_for(route), headers=headers)
        assert response.status_code == 401, name
        assert response.json() == {"error": "unauthorized", "message": "Missing or wrong webhook credentials."}
        assert response.headers["www-authenticate"].startswith("Bearer")
    ok = await client.post(route, json=body_for(route), headers={"authorization": f"bearer  {WEBHOOK_TOKEN} "})
    assert ok.status_code == 200


async def test_rotation_accepts_every_listed_token(make_app: AppFactory) -> None:
    app = make_app(webhook_token=["new-token-123", WEBHOOK_TOKEN])
    async with client_for(app) as http:
        for token in ("new-token-123", WEBHOOK_TOKEN):
            response = await http.post(
                "/vns/call-start", json=spec("call_start_request"), headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200
            # Tool tokens are signed with a key derived from the first token, whichever token VNS presented.
            url, headers = tools_base(response.json())
            tool = await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
            assert tool.status_code == 200


async def test_custom_header_and_basic_auth(make_app: AppFactory) -> None:
    app = make_app(webhook_token="hdr-token-1", webhook_header="X-VNS-Token", webhook_basic_auth="vns:s3cret-pass")
    basic = "Basic " + base64.b64encode(b"vns:s3cret-pass").decode()
    wrong_basic = "Basic " + base64.b64encode(b"vns:guess").decode()
    async with client_for(app) as http:
        body = spec("call_start_request")
        by_header = await http.post("/vns/call-start", json=body, headers={"X-VNS-Token": "hdr-token-1"})
        by_basic = await http.post("/vns/call-start", json=body, headers={"Authorization": basic})
        as_bearer = await http.post("/vns/call-start", json=body, headers={"Authorization": "Bearer hdr-token-1"})
        wrong = await http.post("/vns/call-start", json=body, headers={"Authorization": wrong_basic})
    assert by_header.status_code == 200 and by_basic.status_code == 200
    assert as_bearer.status_code == 401 and wrong.status_code == 401


async def test_basic_only_challenges_basic(make_app: AppFactory, settings: VNSSettings) -> None:
    app = VNSApp(webhook_basic_auth=["vns:pw-1234"], settings=settings)
    async with client_for(app) as http:
        response = await http.post("/vns/call-end", json=spec("call_end_request"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="vns"'


def test_refuses_to_build_without_a_token(settings: VNSSettings) -> None:
    with pytest.raises(ConfigurationError, match="VNS_WEBHOOK_TOKEN"):
        VNSApp(settings=settings)
    with pytest.raises(ConfigurationError, match="user:password"):
        VNSApp(webhook_basic_auth="no-colon", settings=settings)


async def test_insecure_dev_serves_without_credentials_and_warns(
    settings: VNSSettings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vns_sdk.app"):
        app = VNSApp(insecure_dev=True, settings=settings)
        assert sum("INSECURE" in record.getMessage() for record in caplog.records) == 1
        async with app.lifespan():
            pass
        assert sum("INSECURE" in record.getMessage() for record in caplog.records) == 2
    async with client_for(app) as http:
        answer = await start_call(http)
        url, headers = tools_base(answer)
        # Tool calls still need the token the app issued.
        assert (await http.post(f"{url}/end_conversation", json={})).status_code == 401
        tool = await http.post(f"{url}/end_conversation", json={"user_input": "bye"}, headers=headers)
        health = await http.get("/vns/health")
    assert tool.status_code == 200
    assert health.json()["secure"] is False


async def test_a_token_wins_over_insecure_dev(make_app: AppFactory) -> None:
    app = make_app(insecure_dev=True)
    async with client_for(app) as http:
        response = await http.post("/vns/call-start", json=spec("call_start_request"))
    assert response.status_code == 401


@pytest.mark.parametrize("route", ROUTES)
async def test_bad_bodies(make_app: AppFactory, route: str) -> None:
    app = make_app(max_body_size=2048)
    async with client_for(app) as http:
        malformed = await http.post(route, content=b'{"sessionGuid": "x",', headers=AUTH)
        not_object = await http.post(route, json=[1, 2], headers=AUTH)
        wrong_shape = await http.post(route, json={"sessionGuid": 12, "outboundTriggered": "maybe"}, headers=AUTH)
        announced = await http.post(route, content=b"{}", headers=AUTH | {"Content-Length": "999999"})

        async def chunks() -> Any:
            for _ in range(5):
                yield b" " * 1000

        streamed = await http.post(route, content=chunks(), headers=AUTH)
    assert malformed.status_code == 400
    assert malformed.json() == {"error": "malformed_json", "message": "The request body is not valid JSON."}
    assert not_object.status_code == 422 and not_object.json()["error"] == "invalid_request"
    assert wrong_shape.status_code == 422
    problems = wrong_shape.json()["problems"]
    assert {problem["field"] for problem in problems} >= {"sessionGuid"}
    assert all(set(problem) == {"field", "problem"} for problem in problems)
    assert "errors.pydantic.dev" not in wrong_shape.text and "maybe" not in wrong_shape.text
    assert announced.status_code == 413 and streamed.status_code == 413
    assert streamed.json() == {"error": "too_large", "message": "The request body is too large."}


async def test_unknown_routes_and_methods_answer_json(client: httpx.AsyncClient) -> None:
    for path in ("/", "/vns", "/vns/call-begin", "/other/call-start", "/vns/toolsx"):
        response = await client.post(path, json={})
        assert response.status_code == 404, path
        assert response.json() == {"error": "not_found", "message": "There is no such route."}
    for method, path, allow in (
        ("GET", "/vns/call-start", "POST"),
        ("PUT", "/vns/call-end", "POST"),
        ("DELETE", "/vns/tools/lookup", "POST"),
        ("POST", "/vns/health", "GET, HEAD"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == allow
        assert response.json()["error"] == "method_not_allowed"


async def test_websockets_are_closed(app: VNSApp) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "websocket", "path": "/vns/call-start", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


async def test_no_secret_reaches_the_logs(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    secrets = {
        "openai": OPENAI_KEY,
        "webhook": WEBHOOK_TOKEN,
        "second webhook": "rotated-old-token-77",
        "basic": "vns:basic-password-55",
        "tool secret": "tool-token-secret-0042",
        "api token": "vns-api-token-8080",
    }
    app = make_app(
        webhook_token=[WEBHOOK_TOKEN, secrets["second webhook"]],
        webhook_basic_auth=secrets["basic"],
        tool_token_secret=secrets["tool secret"],
        settings=VNSSettings.model_validate({"api_token": secrets["api token"], "webhook_token": []}),
    )

    @app.on_call_start
    async def leaky(call: CallContext) -> None:
        raise RuntimeError(f"could not reach the CRM with key {OPENAI_KEY} / {WEBHOOK_TOKEN}")

    @app.on_call_end
    async def leaky_end(call: CallContext) -> None:
        raise RuntimeError(f"warehouse refused token {secrets['api token']}")

    caplog.set_level(logging.DEBUG)
    async with client_for(app) as http:
        answer = await start_call(http)
        url, headers = tools_base(answer)
        tool_token = headers["Authorization"].removeprefix("Bearer ")
        secrets["tool token"] = tool_token
        secrets["tool signature"] = tool_token.rsplit(".", 1)[1]
        body = {"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone", "sessionGuid": SEED_GUID}}
        await http.post(url, json=body | {"name": "Ron"}, headers=headers)
        await http.post(url, json=body | {"name": 5}, headers=headers)
        await http.post(url, json=body, headers={"Authorization": f"Bearer {tool_token}x"})
        await http.post(url, json=body, headers={"Authorization": f"Bearer {tool_token[:-3]}"})
        await http.post("/vns/call-start", json=spec("call_start_request"), headers={"Authorization": "Bearer guess"})
        await http.post("/vns/call-end", json=spec("call_end_request") | {"sessionGuid": SEED_GUID}, headers=AUTH)
        await http.post(url, json=body, headers=headers)  # after CallEnd
        await http.get("/vns/health")
    assert answer["VoiceElements_Instructions"]["aiUrl"]["headers"]["Authorization"] == f"Bearer {OPENAI_KEY}"

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert caplog.records
    assert any(record.exc_text and "Traceback" in record.exc_text for record in caplog.records)
    for record in caplog.records:
        texts = [formatter.format(record), record.getMessage(), repr(record.__dict__)]
        for name, secret in secrets.items():
            for text in texts:
                assert secret not in text, f"the {name} leaked into {record.name}: {record.getMessage()!r}"


async def test_a_fault_of_the_app_answers_500_json(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Exception):
        pass

    class BrokenStore(MemoryCallStateStore):
        async def start_call(self, *args: Any) -> None:
            raise Broken("bug")

    app = make_app(state_store=BrokenStore())
    async with client_for(app) as http:
        response = await http.post("/vns/call-start", json=spec("call_start_request"), headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "The app failed to answer; its log says why."}
    assert any("/vns/call-start failed" in record.getMessage() for record in caplog.records)
