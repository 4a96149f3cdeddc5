"""The Realtime endpoint of the customer's choice: OpenAI, Azure OpenAI, a gateway; per app and per call."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.app.conftest import AUTH, AppFactory, client_for, spec, tools_base
from vns_sdk import CallContext, RealtimeEndpoint, VNSSettings
from vns_sdk.app import VNSApp
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.models import CallStartResponse

AZURE_KEY = "azure-resource-key-5c1e7a90d2"
GATEWAY_KEY = "gw-secret-4411aa92ce"


async def call_start(app: VNSApp, **fields: Any) -> dict[str, Any]:
    async with client_for(app) as http:
        response = await http.post("/vns/call-start", json=spec("call_start_request") | fields, headers=AUTH)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    CallStartResponse.model_validate(answer)
    return answer


def ai_url(answer: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = answer["VoiceElements_Instructions"]["aiUrl"]
    return result


def env_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> VNSSettings:
    names = ("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_API_KEY", "VNS_MODEL")
    for name in (*names, "VNS_REALTIME_PROVIDER", "VNS_REALTIME_URL", "VNS_REALTIME_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return VNSSettings()


async def test_the_default_is_openai_with_a_bearer_key(make_app: AppFactory) -> None:
    answer = await call_start(make_app(model="gpt-realtime-mini"))
    assert ai_url(answer) == {
        "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
        "headers": {"Authorization": "Bearer sk-test-openai-key-93ab"},
    }


async def test_openai_organization_and_project_headers(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = RealtimeEndpoint.openai("sk-org-key-000111", organization="org-42", project="proj_7")
    answer = await call_start(make_app(realtime=explicit))
    assert ai_url(answer)["headers"] == {
        "Authorization": "Bearer sk-org-key-000111",
        "OpenAI-Organization": "org-42",
        "OpenAI-Project": "proj_7",
    }
    settings = env_settings(
        monkeypatch, OPENAI_API_KEY="sk-env-key-222", OPENAI_ORG_ID="org-env", OPENAI_PROJECT_ID="proj_env"
    )
    answer = await call_start(make_app(settings=settings, openai_api_key=None))
    assert ai_url(answer)["headers"] == {
        "Authorization": "Bearer sk-env-key-222",
        "OpenAI-Organization": "org-env",
        "OpenAI-Project": "proj_env",
    }


async def test_azure_ga_form_from_arguments_and_from_the_environment(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = RealtimeEndpoint.azure("contoso", AZURE_KEY)
    answer = await call_start(make_app(realtime=endpoint, model="my-realtime-deployment"))
    assert ai_url(answer) == {
        "url": "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-realtime-deployment",
        "headers": {"api-key": AZURE_KEY},
    }
    settings = env_settings(
        monkeypatch,
        VNS_REALTIME_PROVIDER="azure",
        VNS_REALTIME_URL="https://contoso.openai.azure.com/",
        AZURE_OPENAI_API_KEY=AZURE_KEY,
        VNS_MODEL="gpt-realtime",
    )
    from_env = await call_start(make_app(settings=settings, openai_api_key=None))
    assert ai_url(from_env) == {
        "url": "wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime",
        "headers": {"api-key": AZURE_KEY},
    }


async def test_azure_preview_form_and_entra_token(make_app: AppFactory) -> None:
    preview = RealtimeEndpoint.azure("contoso", token="eyJentra.token.value", api_version="2025-04-01-preview")
    answer = await call_start(make_app(realtime=preview, model="rt-deploy"))
    assert ai_url(answer) == {
        "url": "wss://contoso.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=rt-deploy",
        "headers": {"Authorization": "Bearer eyJentra.token.value"},
    }
    with pytest.raises(ConfigurationError, match="not both"):
        RealtimeEndpoint.azure("contoso", AZURE_KEY, token="t")


async def test_a_gateway_with_its_own_headers(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = RealtimeEndpoint.gateway(
        "wss://llm-gw.example.com/openai/realtime?tenant=acme", {"X-Gateway-Key": GATEWAY_KEY}
    )
    answer = await call_start(make_app(realtime=gateway))
    assert ai_url(answer) == {
        "url": "wss://llm-gw.example.com/openai/realtime?tenant=acme&model=gpt-realtime",
        "headers": {"X-Gateway-Key": GATEWAY_KEY},
    }
    bound = RealtimeEndpoint.gateway(
        "wss://llm-gw.example.com/acme-voice", {"X-Gateway-Key": GATEWAY_KEY}, model_param=None
    )
    assert ai_url(await call_start(make_app(realtime=bound)))["url"] == "wss://llm-gw.example.com/acme-voice"

    settings = env_settings(
        monkeypatch,
        VNS_REALTIME_PROVIDER="gateway",
        VNS_REALTIME_URL="wss://llm-gw.example.com/v1/realtime",
        VNS_REALTIME_HEADERS=json.dumps({"X-Gateway-Key": GATEWAY_KEY, "X-Tenant": "acme"}),
    )
    from_env = await call_start(make_app(settings=settings, openai_api_key=None))
    assert ai_url(from_env) == {
        "url": "wss://llm-gw.example.com/v1/realtime?model=gpt-realtime",
        "headers": {"X-Gateway-Key": GATEWAY_KEY, "X-Tenant": "acme"},
    }
    assert GATEWAY_KEY not in repr(settings) and GATEWAY_KEY not in repr(bound)


TENANTS = {
    "7206999999": RealtimeEndpoint.openai("sk-tenant-one-key-1111"),
    "7205551000": RealtimeEndpoint.azure("fabrikam", "azure-tenant-two-key-2222"),
}


async def test_a_call_start_handler_chooses_the_endpoint_key_and_model_per_call(make_app: AppFactory) -> None:
    app = make_app()

    @app.on_call_start
    async def by_number(call: CallContext) -> None:
        assert call.realtime is not None and call.session is not None
        endpoint = TENANTS.get(call.called_number or "")
        if endpoint is not None:
            call.realtime = endpoint
            call.session.model = "tenant-deployment" if "fabrikam" in endpoint.url else "gpt-realtime-mini"

    one = ai_url(await call_start(app, calledNumber="7206999999"))
    two = ai_url(await call_start(app, calledNumber="7205551000", sessionGuid="second-call"))
    other = ai_url(await call_start(app, calledNumber="3035550000", sessionGuid="third-call"))
    assert one == {
        "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
        "headers": {"Authorization": "Bearer sk-tenant-one-key-1111"},
    }
    assert two == {
        "url": "wss://fabrikam.openai.azure.com/openai/v1/realtime?model=tenant-deployment",
        "headers": {"api-key": "azure-tenant-two-key-2222"},
    }
    # Nothing of one call leaks into the next: the app's default endpoint and model are untouched.
    assert other == {
        "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        "headers": {"Authorization": "Bearer sk-test-openai-key-93ab"},
    }


async def test_an_endpoint_cannot_be_changed_in_place(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.on_call_start
    async def tamper(call: CallContext) -> None:
        assert call.realtime is not None
        call.realtime.headers["Authorization"] = "Bearer sk-stolen"  # type: ignore[index]

    with caplog.at_level(logging.ERROR, logger="vns_sdk.app"):
        answer = await call_start(app)
    assert ai_url(answer)["headers"] == {"Authorization": "Bearer sk-test-openai-key-93ab"}
    assert "a handler failed" in caplog.text


async def test_a_bad_endpoint_from_a_handler_answers_the_default_form(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.on_call_start
    async def conflicting(call: CallContext) -> None:
        call.realtime = RealtimeEndpoint.gateway("wss://gw.example.com/realtime?model=other-model")

    with caplog.at_level(logging.ERROR, logger="vns_sdk.app"):
        answer = await call_start(app)
    assert ai_url(answer)["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert "names the model 'other-model'" in caplog.text


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: RealtimeEndpoint.gateway("https://gw.example.com/realtime"), "must be a ws:// or wss:// URL"),
        (lambda: RealtimeEndpoint.openai("k", url="http://api.openai.com/v1/realtime"), "must be a ws:// or wss://"),
        (lambda: RealtimeEndpoint.gateway("gw.example.com"), "must be a ws:// or wss:// URL"),
    ],
)
def test_a_url_that_is_not_a_websocket_is_refused(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_a_refused_url_is_named_without_its_password() -> None:
    with pytest.raises(ConfigurationError) as refused:
        RealtimeEndpoint.gateway("https://user:pa55-word@gw.example.com/realtime?key=also-secret")
    assert "'https://gw.example.com/realtime'" in str(refused.value)
    assert "pa55-word" not in str(refused.value) and "also-secret" not in str(refused.value)


def test_start_up_refuses_what_the_url_cannot_carry(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="names the model 'a-model'.*session's model is 'gpt-realtime'"):
        make_app(realtime=RealtimeEndpoint.gateway("wss://gw.example.com/realtime?model=a-model"))
    with pytest.raises(ConfigurationError, match="needs VNS_REALTIME_URL"):
        make_app(settings=env_settings(monkeypatch, VNS_REALTIME_PROVIDER="azure"))
    with pytest.raises(ConfigurationError, match="ws:// or wss://"):
        make_app(settings=env_settings(monkeypatch, VNS_REALTIME_URL="https://api.openai.com/v1/realtime"))
    with pytest.raises(ConfigurationError, match="VNS_REALTIME_HEADERS must be a JSON object"):
        make_app(
            settings=env_settings(
                monkeypatch,
                VNS_REALTIME_PROVIDER="gateway",
                VNS_REALTIME_URL="wss://g.example",
                VNS_REALTIME_HEADERS="[",
            )
        )


async def test_keys_chosen_per_call_stay_out_of_the_logs(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(realtime=RealtimeEndpoint.gateway("wss://gw.example.com/realtime", {"X-Gateway-Key": GATEWAY_KEY}))
    per_call_key = "sk-per-call-key-9f8e7d6c5b"

    @app.on_call_start
    async def choose(call: CallContext) -> None:
        call.realtime = RealtimeEndpoint.openai(per_call_key)

    @app.tool
    async def leak(call: CallContext) -> dict[str, Any]:
        """Fails with the keys in its message."""
        raise RuntimeError(f"upstream refused {per_call_key} and {GATEWAY_KEY}")

    with caplog.at_level(logging.DEBUG):
        answer = await call_start(app)
        url, headers = tools_base(answer)
        async with client_for(app) as http:
            reply = await http.post(f"{url}/leak", json={}, headers=headers)
    assert reply.json()["error"] == "error"
    assert "upstream refused" in caplog.text
    assert per_call_key not in caplog.text and GATEWAY_KEY not in caplog.text


async def test_the_answer_validates_against_the_openai_session_types(make_app: AppFactory) -> None:
    openai_types = pytest.importorskip("openai.types.realtime")
    app = make_app(realtime=RealtimeEndpoint.azure("contoso", AZURE_KEY), model="deploy-1")
    answer = await call_start(app)
    event = openai_types.SessionUpdateEvent.model_validate({key: answer[key] for key in ("type", "session")})
    assert event.session.type == "realtime" and event.session.model == "deploy-1"
    assert [tool.name for tool in event.session.tools or []] == ["end_conversation", "lookup_name_or_phone"]


def test_transcripts_and_the_session_command_mask_every_endpoint_header(
    make_app: AppFactory, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vns_sdk.testing import VNSSimulator

    app = make_app(
        realtime=RealtimeEndpoint.gateway("wss://gw.example.com/realtime", {"X-Gateway-Key": GATEWAY_KEY}),
        openai_api_key=None,
    )

    @app.on_call_start
    async def azure_for_this_call(call: CallContext) -> None:
        call.realtime = RealtimeEndpoint.azure("contoso", AZURE_KEY)

    transcript = tmp_path / "call.jsonl"
    with VNSSimulator(app, record=transcript) as vns, vns.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
    text = transcript.read_text()
    assert "contoso.openai.azure.com" in text
    assert AZURE_KEY not in text and GATEWAY_KEY not in text

    from typer.testing import CliRunner

    from vns_sdk.cli.main import app as cli

    module = tmp_path / "gateway_app.py"
    module.write_text(
        "from vns_sdk import RealtimeEndpoint, VNSApp\n"
        f"app = VNSApp(webhook_token='t' * 24, realtime=RealtimeEndpoint.gateway("
        f"'wss://gw.example.com/realtime', {{'X-Gateway-Key': '{GATEWAY_KEY}', 'OpenAI-Beta': 'realtime=v1'}}))\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["session", "gateway_app.py"], prog_name="vns-sdk")
    assert result.exit_code == 0, result.output
    assert GATEWAY_KEY not in result.output
    headers = json.loads(result.stdout)["VoiceElements_Instructions"]["aiUrl"]["headers"]
    assert set(headers) == {"X-Gateway-Key", "OpenAI-Beta"} and "…" in headers["X-Gateway-Key"]
