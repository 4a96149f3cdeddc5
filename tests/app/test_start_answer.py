"""The CallStart answer put together from parts encoded once is, byte for byte, the `CallStartResponse`'s JSON.

The app encodes the session and the ``aiUrl`` once and only the call's own values per call
(`vns_sdk.app._start_answer`); what VNS receives must not change for it. These tests hold the two to the
same bytes for any value a call or a handler can bring, and check that the encoded session follows the
tools registered after the app started serving.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.app.conftest import AUTH, SEED_GUID, AppFactory, client_for, spec, start_call
from vns_sdk import CallContext, RealtimeEndpoint
from vns_sdk.app._session import default_session
from vns_sdk.app._start_answer import EncodedParts, encode_ai_url, encode_answer, encode_session
from vns_sdk.models import (
    CallStartResponse,
    EndpointConfig,
    RealtimeSession,
    ToolsUrlAdapter,
    VoiceElementsInstructions,
)
from vns_sdk.tools import ToolRouter

SESSIONS = [
    default_session(model="gpt-realtime", voice="alloy", instructions=None),
    default_session(model="gpt-realtime", voice="marin", instructions='Say "hi"\n\u00e9\u4e2d\U0001f600 \\ </script>'),
    default_session(
        model="gpt-realtime-mini",
        voice="alloy",
        instructions="x",
        override={
            "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}},
            "max_output_tokens": 512,
            "speed": 1.1,
        },
    ),
]
ENDPOINTS = [
    RealtimeEndpoint.openai("sk-test-0123456789", organization="org-1", project="proj-1"),
    RealtimeEndpoint.openai(None),
    RealtimeEndpoint.azure("my-resource", "azure-key-0123456789"),
    RealtimeEndpoint.gateway("wss://gateway.example.com/realtime?tenant=a%20b"),
]
text = st.text(st.characters(codec="utf-8"), max_size=40)


def expected(
    *,
    endpoint: RealtimeEndpoint,
    session: RealtimeSession,
    max_seconds: int,
    customer_call_id: str | None,
    tools_url: str,
    token: str,
    adapter: str | None,
    event_id: str,
) -> bytes:
    """The answer as the app built it before: the response model, serialized."""
    response = CallStartResponse(
        voice_elements_instructions=VoiceElementsInstructions(
            ai_url=endpoint.ai_url(session.model),
            max_seconds=max_seconds,
            customer_call_id=customer_call_id,
            default_tools_url_base=EndpointConfig(url=tools_url, headers={"Authorization": f"Bearer {token}"}),
            default_tools_url_adapter=adapter,
        ),
        event_id=event_id,
        type="session.update",
        session=session,
    )
    return response.model_dump_json(by_alias=True, exclude_unset=True).encode()


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    session=st.sampled_from(SESSIONS),
    max_seconds=st.integers(min_value=1, max_value=10**12),
    customer_call_id=st.none() | text,
    tools_url=text,
    token=text,
    adapter=st.sampled_from([None, *ToolsUrlAdapter.FORMS]),
    event_id=text,
)
def test_the_answer_is_the_response_models_json(
    endpoint: RealtimeEndpoint,
    session: RealtimeSession,
    max_seconds: int,
    customer_call_id: str | None,
    tools_url: str,
    token: str,
    adapter: str | None,
    event_id: str,
) -> None:
    values: dict[str, Any] = dict(
        max_seconds=max_seconds,
        customer_call_id=customer_call_id,
        tools_url=tools_url,
        token=token,
        adapter=adapter,
        event_id=event_id,
    )
    built = encode_answer(ai_url=encode_ai_url(endpoint, session.model), session=encode_session(session), **values)
    assert built == expected(endpoint=endpoint, session=session, **values)
    json.loads(built)


@pytest.mark.parametrize("session", SESSIONS)
def test_the_encoded_session_is_the_built_session(session: RealtimeSession) -> None:
    router = ToolRouter()

    @router.tool
    async def lookup(name: str) -> str:
        """Looks a name up.

        Args:
            name: The name.
        """
        return name

    template = session.model_copy(update={"tools": None}) if session.tools else session
    parts = EncodedParts(template, router, ENDPOINTS[0], "gpt-realtime")
    built = template.model_copy(deep=True)
    built.tools = [*(built.tools or ()), *router.function_tools()]
    assert parts.session() == encode_session(built)
    assert parts.ai_url() == encode_ai_url(ENDPOINTS[0], template.model)


async def test_tools_registered_or_removed_while_serving_are_in_the_next_answer(make_app: AppFactory) -> None:
    app = make_app()
    async with client_for(app) as http:
        first = await start_call(http)
        assert [tool["name"] for tool in first["session"]["tools"]] == ["end_conversation", "lookup_name_or_phone"]

        @app.tool
        async def opening_hours() -> str:
            """Says when the shop is open."""
            return "9 to 5"

        second = await start_call(http)
        assert [tool["name"] for tool in second["session"]["tools"]][-1] == "opening_hours"
        app.router.remove("lookup_name_or_phone")
        third = await start_call(http)
        assert [tool["name"] for tool in third["session"]["tools"]] == ["end_conversation", "opening_hours"]


async def test_an_mcp_server_offered_while_serving_is_in_the_next_answer(make_app: AppFactory) -> None:
    app = make_app()
    async with client_for(app) as http:
        first = await start_call(http)
        assert all(tool["type"] == "function" for tool in first["session"]["tools"])
        app.mcp_server("crm", server_url="https://crm.example.com/mcp", allowed_tools=["find_customer"])
        second = await start_call(http)
        [mcp] = [tool for tool in second["session"]["tools"] if tool["type"] == "mcp"]
        assert mcp["server_label"] == "crm"


async def test_an_answer_with_handlers_is_the_one_without_when_they_change_nothing(make_app: AppFactory) -> None:
    plain = make_app()
    tailored = make_app()
    seen: list[CallContext] = []

    @tailored.on_call_start
    async def look(call: CallContext) -> None:
        seen.append(call)

    answers = []
    for app in (plain, tailored):
        async with client_for(app) as http:
            response = await http.post("/vns/call-start", json=spec("call_start_request"), headers=AUTH)
            answers.append(response.json())
    assert seen and seen[0].session_guid == SEED_GUID
    for answer in answers:  # the tokens differ (each app signs its own): compare the rest
        answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]["headers"] = {}
    assert answers[0] == answers[1]


async def test_a_handler_may_give_the_session_as_a_dict(make_app: AppFactory) -> None:
    app = make_app()

    @app.on_call_start
    async def plain_session(call: CallContext) -> None:
        call.session = {"type": "realtime", "model": "gpt-realtime", "instructions": "Short."}  # type: ignore[assignment]

    async with client_for(app) as http:
        answer = await start_call(http)
    assert answer["session"] == {"type": "realtime", "model": "gpt-realtime", "instructions": "Short."}
