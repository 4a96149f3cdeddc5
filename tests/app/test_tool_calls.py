"""Tool calls through the real ASGI app: every adapter form, the per-call token, bad input, the store."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import time
from collections.abc import Collection, Mapping
from typing import Any

import httpx
import pytest
import uvicorn.server

from tests.app.conftest import (
    AUTH,
    RON,
    SEED_GUID,
    WEBHOOK_TOKEN,
    AppFactory,
    client_for,
    spec,
    start_call,
    tools_base,
)
from tests.app.test_adversarial import auth_header, start
from vns_sdk.app import VNSApp
from vns_sdk.app._auth import ToolTokens
from vns_sdk.app._tools_route import SHUTDOWN_CANCEL
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.models import ToolsUrlAdapter
from vns_sdk.state import MemoryCallStateStore
from vns_sdk.state.base import CallSnapshot, Lease

FORMS: list[str | None] = [None, *ToolsUrlAdapter.FORMS]
TOOL = "lookup_name_or_phone"


def wrapper(guid: str = SEED_GUID, ccid: str | None = "CallId-001", tool: str = TOOL) -> dict[str, Any]:
    return {"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": guid, "customerCallId": ccid}}


def tool_request(form: str | None, url: str, ccid: str | None, guid: str = SEED_GUID) -> tuple[str, dict[str, Any]]:
    """The URL and body VNS sends for the seed's tool call in ``form``."""
    if form is None:
        return url, wrapper(guid, ccid) | {"name": "Ron"}
    rendered = ToolsUrlAdapter(form).render(url, tool_name=TOOL, session_guid=guid, customer_call_id=ccid)
    return rendered, {"name": "Ron"}


@pytest.mark.parametrize("ccid", [None, "CallId-001"])
@pytest.mark.parametrize("form", FORMS)
async def test_every_adapter_form_answers_the_tool_reply(
    make_app: AppFactory, form: str | None, ccid: str | None
) -> None:
    app = make_app(tools_url_adapter=form)
    async with client_for(app) as http:
        answer = await start_call(http, customerCallId=ccid)
        assert answer["VoiceElements_Instructions"]["defaultToolsUrlAdapter"] == form
        url, headers = tools_base(answer)
        target, body = tool_request(form, url, ccid)
        response = await http.post(target, json=body, headers=headers)
        again = await http.post(target, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == RON
    assert again.json() == RON
    loaded = await app.store.load_call(SEED_GUID)
    assert loaded is not None and loaded[1]["lookups"] == "2"  # state written by one call is read by the next


@pytest.mark.parametrize("form", FORMS)
async def test_every_form_is_accepted_whatever_the_app_answered(make_app: AppFactory, form: str | None) -> None:
    app = make_app(tools_url_adapter=None)
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        target, body = tool_request(form, url, None)
        response = await http.post(target, json=body, headers=headers)
    assert response.status_code == 200 and response.json() == RON


async def test_spec_tool_request_body_with_the_wrapper(app: VNSApp, client: httpx.AsyncClient) -> None:
    url, headers = tools_base(await start_call(client))
    body = spec("tool_request")
    body["VoiceElements_InvokeTool"]["sessionGuid"] = SEED_GUID
    response = await client.post(url, json=body, headers=headers)
    assert response.json() == spec("tool_reply") == RON


async def test_three_segment_forms_are_told_apart_by_the_token_or_the_tool_names(make_app: AppFactory) -> None:
    app = make_app()
    # A tool whose name could pass for a sessionGuid, and a call whose guid is a tool's name.
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http, guid="end_conversation"))
        guid_first = await http.post(f"{url}/end_conversation/{TOOL}/", json={"name": "Ron"}, headers=headers)
        tool_first = await http.post(f"{url}/{TOOL}/end_conversation/x", json={"name": "Ron"}, headers=headers)
    assert guid_first.json() == RON
    assert tool_first.json() == RON


async def test_a_second_worker_with_the_same_configuration_accepts_the_token(make_app: AppFactory) -> None:
    store = MemoryCallStateStore()  # stands for a store both workers share
    first, second = make_app(state_store=store), make_app(state_store=store)
    async with client_for(first) as http:
        url, headers = tools_base(await start_call(http))
    async with client_for(second) as http:
        response = await http.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
    assert response.json() == RON


async def test_tool_problems_are_answers_the_model_can_speak(client: httpx.AsyncClient) -> None:
    url, headers = tools_base(await start_call(client))
    unknown = await client.post(url, json=wrapper(tool="book_flight"), headers=headers)
    invalid = await client.post(url, json=wrapper() | {"name": ["not", "a", "string"]}, headers=headers)
    empty = await client.post(f"{url}/{TOOL}", content=b"", headers=headers)
    assert unknown.status_code == 200 and unknown.json()["error"] == "unknown_tool"
    assert invalid.status_code == 200 and invalid.json()["error"] == "invalid_arguments"
    assert "pydantic" not in invalid.text
    assert empty.status_code == 200 and empty.json()["contactFound"] is False


async def test_missing_and_bad_tokens_get_401(make_app: AppFactory, client: httpx.AsyncClient) -> None:
    url, headers = tools_base(await start_call(client))
    token = headers["Authorization"].removeprefix("Bearer ")
    other = ToolTokens.derive("another-secret-entirely").issue(SEED_GUID, 60)
    body = wrapper() | {"name": "Ron"}
    cases = {
        "missing": {},
        "webhook token": AUTH,
        "not bearer": {"Authorization": f"Token {token}"},
        "garbage": {"Authorization": "Bearer v1.garbage"},
        "tampered": {"Authorization": f"Bearer {token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}"},
        "other secret": {"Authorization": f"Bearer {other}"},
    }
    for name, case in cases.items():
        response = await client.post(url, json=body, headers=case)
        assert response.status_code == 401, name
        assert response.json()["error"] == "unauthorized", name
        assert token not in response.text


async def test_expired_token_gets_401(client: httpx.AsyncClient) -> None:
    url, _ = tools_base(await start_call(client))
    # The key derives from the webhook token the same way in every worker: mint one that expired a minute ago.
    expired = ToolTokens.derive(WEBHOOK_TOKEN, clock=lambda: time.time() - 400).issue(SEED_GUID, 340)
    response = await client.post(url, json=wrapper(), headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "The tool token has expired with its call."}


async def test_token_of_another_call_gets_401(client: httpx.AsyncClient) -> None:
    url, headers = tools_base(await start_call(client))
    await start_call(client, guid="second-call")
    in_body = await client.post(url, json=wrapper(guid="second-call"), headers=headers)
    in_path = await client.post(f"{url}/second-call/{TOOL}/", json={}, headers=headers)
    in_query = await client.post(f"{url}?toolname={TOOL}&sessionguid=second-call", json={}, headers=headers)
    for response in (in_body, in_path, in_query):
        assert response.status_code == 401
        assert response.json()["message"] == "The tool token belongs to another call."


async def test_tool_calls_after_call_end_are_gone(client: httpx.AsyncClient) -> None:
    url, headers = tools_base(await start_call(client))
    end = await client.post("/vns/call-end", json=spec("call_end_request") | {"sessionGuid": SEED_GUID}, headers=AUTH)
    assert end.json() == {"status": 0, "errorMessage": "Success"}
    response = await client.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
    assert response.status_code == 410
    assert response.json() == {
        "error": "call_ended",
        "message": "This call has ended: its tools can no longer be called.",
    }


async def test_bad_tool_requests(make_app: AppFactory) -> None:
    app = make_app(max_body_size=1024)
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        malformed = await http.post(url, content=b'{"name": ', headers=headers)
        not_utf8 = await http.post(url, content=b'{"name": "\xff"}', headers=headers)
        array = await http.post(url, json=["Ron"], headers=headers)
        bad_wrapper = await http.post(url, json={"VoiceElements_InvokeTool": "lookup"}, headers=headers)
        no_tool = await http.post(url, json={"name": "Ron"}, headers=headers)
        too_deep = await http.post(f"{url}/a/b/c/d", json={}, headers=headers)
        announced = await http.post(url, content=b"{}", headers=headers | {"Content-Length": "4096"})

        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 200

        streamed = await http.post(url, content=chunks(), headers=headers)
        wrong_method = await http.get(url, headers=headers)
    assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"
    assert not_utf8.status_code == 400
    assert array.status_code == 422 and array.json()["problems"] == [
        {"field": "(body)", "problem": "The body must be a JSON object."}
    ]
    assert bad_wrapper.status_code == 422 and bad_wrapper.json()["problems"][0]["field"] == "VoiceElements_InvokeTool"
    assert no_tool.status_code == 422 and no_tool.json()["error"] == "invalid_request"
    assert too_deep.status_code == 404 and too_deep.json()["error"] == "not_found"
    assert announced.status_code == 413 and announced.json()["error"] == "too_large"
    assert "transfer-encoding" in streamed.request.headers or "content-length" not in streamed.request.headers
    assert streamed.status_code == 413 and streamed.json()["error"] == "too_large"
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["error"] == "method_not_allowed"


class FlakyStore(MemoryCallStateStore):
    """A memory store whose backend "goes down" on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()
        self.saves = 0

    async def read_call(self, session_guid: str) -> CallSnapshot:
        if "load" in self.down:
            raise StateStoreError("connection refused")
        return await super().read_call(session_guid)

    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        if "load" in self.down:
            raise StateStoreError("connection refused")
        return await super().acquire_call(session_guid, lease_seconds=lease_seconds, wait_seconds=wait_seconds)

    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        self.saves += 1
        if "save" in self.down:
            raise StateStoreError("connection refused")
        return await super().save_call(lease, updates, deleted, ttl)


async def test_store_failure_gives_an_answer_the_model_can_speak(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    app = make_app(state_store=store, tool_timeout=0.3)

    @app.tool
    async def opening_hours(day: str) -> dict[str, Any]:
        """Tells the opening hours of a day.

        Args:
            day: The day of the week.
        """
        return {"day": day, "open": "9:00"}

    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        store.down = {"load"}
        down = await http.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
        # A tool that asks nothing of its call runs on its tool token alone.
        hours = await http.post(url, json=wrapper(tool="opening_hours") | {"day": "Monday"}, headers=headers)
        store.down = {"save"}
        unsaved = await http.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
        health = await http.get("/vns/health")
    assert down.status_code == 200
    assert down.json()["error"] == "unavailable" and down.json()["message"]
    assert hours.status_code == 200 and hours.json() == {"day": "Monday", "open": "9:00"}
    # The tool ran: its answer goes out (so the model does not retry it); the save was tried again, then the log
    # says which keys were lost, and the health route counts it.
    assert unsaved.status_code == 200 and unsaved.json() == RON
    assert store.saves > 1
    outcomes = [getattr(record, "vns_outcome", None) for record in caplog.records]
    assert "store_unavailable" in outcomes and "state_not_saved" in outcomes
    assert any("connection refused" in record.getMessage() for record in caplog.records)
    assert any("keys lost: 'lookups'" in record.getMessage() for record in caplog.records)
    assert health.json()["state"]["writes_lost"] == 1


async def test_tool_sees_the_call(make_app: AppFactory) -> None:
    app = make_app(lookup=False)
    seen: list[CallContext] = []

    @app.tool
    async def whoami(call: CallContext) -> dict[str, Any]:
        """Says who is calling."""
        seen.append(call)
        return {"caller": call.caller_id}

    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http, customerCallId="CallId-001"))
        response = await http.post(f"{url}/whoami/CallId-001", json={}, headers=headers)
    assert response.json() == {"caller": "3032639999"}
    call = seen[0]
    assert (call.session_guid, call.customer_call_id, call.tool_name) == (SEED_GUID, "CallId-001", "whoami")
    assert call.time_left is not None


async def test_a_reply_is_always_valid_json(make_app: AppFactory) -> None:
    app = make_app(lookup=False)

    @app.tool
    async def measure() -> dict[str, Any]:
        """Measures nothing."""
        return {"value": float("nan"), "text": "caf\u00e9 \u2615"}

    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        response = await http.post(f"{url}/measure", json={}, headers=headers)
    assert response.status_code == 200
    import json

    body = json.loads(response.content, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert body.get("text") == "caf\u00e9 \u2615" or body["error"] == "error"


async def test_a_tool_storing_what_json_cannot_hold_still_answers(make_app: AppFactory) -> None:
    app = make_app(lookup=False)

    @app.tool
    async def remember(call: CallContext) -> dict[str, Any]:
        """Remembers something that is not JSON."""
        call.state["when"] = object()
        return {"remembered": True}

    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        response = await http.post(f"{url}/remember", json={}, headers=headers)
    assert response.status_code == 200 and response.json() == {"remembered": True}
    loaded = await app.store.load_call(SEED_GUID)
    assert loaded is not None and "when" not in loaded[1]


async def test_bodies_are_parsed_as_the_standard_json_module_parses_them(make_app: AppFactory) -> None:
    app = make_app(lookup=False)

    @app.tool
    async def measure(text: str = "", data: list[Any] | None = None) -> dict[str, Any]:
        """Measures its arguments."""
        depth = 0
        while isinstance(data, list) and data:
            data, depth = data[0], depth + 1
        return {"length": len(text), "depth": depth}

    deep = b'{"data":' + b"[" * 300 + b"1" + b"]" * 300 + b"}"
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        lone_surrogate = await http.post(f"{url}/measure", content=b'{"text":"\\ud83dx"}', headers=headers)
        pair = await http.post(f"{url}/measure", content=b'{"text":"\\ud83d\\ude00"}', headers=headers)
        nested = await http.post(f"{url}/measure", content=deep, headers=headers)
        spaced = await http.post(f"{url}/measure", content=b' \n{ "text" : "abc" }\n', headers=headers)
        duplicate = await http.post(f"{url}/measure", content=b'{"text":"a","text":"abcd"}', headers=headers)
        with_bom = await http.post(f"{url}/measure", content=b'\xef\xbb\xbf{"text":"a"}', headers=headers)
        trailing = await http.post(f"{url}/measure", content=b'{"text":"a"} x', headers=headers)
    assert lone_surrogate.status_code == 200 and lone_surrogate.json() == {"length": 2, "depth": 0}
    assert pair.json() == {"length": 1, "depth": 0}
    assert nested.status_code == 200 and nested.json() == {"length": 0, "depth": 300}
    assert spaced.json() == {"length": 3, "depth": 0}
    assert duplicate.json() == {"length": 4, "depth": 0}  # the last one wins
    assert with_bom.status_code == 400 and trailing.status_code == 400


async def test_replies_are_compact_json_and_a_reply_json_cannot_carry_is_refused(make_app: AppFactory) -> None:
    app = make_app(lookup=False)

    @app.tool
    async def speak(lone: bool = False) -> dict[str, Any]:
        """Answers."""
        text = "\ud83d" if lone else "caf\u00e9 \u2615 \u2028"
        return {"text": text, "big": 2**70, "ratio": 0.1, "flags": [True, None]}

    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        spoken = await http.post(f"{url}/speak", json={}, headers=headers)
        unsendable = await http.post(f"{url}/speak", json={"lone": True}, headers=headers)
    assert (
        spoken.content
        == ('{"text":"caf\u00e9 \u2615 \u2028","big":1180591620717411303424,"ratio":0.1,"flags":[true,null]}').encode()
    )
    assert spoken.headers["content-length"] == str(len(spoken.content))
    assert unsendable.status_code == 200 and unsendable.json()["error"] == "error"


async def test_each_tool_call_logs_one_line_when_info_is_on(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    url, headers = tools_base(await start_call(client))
    caplog.set_level(logging.WARNING, logger="vns_sdk.app")
    await client.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
    assert not [record for record in caplog.records if record.name == "vns_sdk.app"]
    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    await client.post(url, json=wrapper() | {"name": "Ron"}, headers=headers)
    [line] = [record for record in caplog.records if record.name == "vns_sdk.app"]
    assert line.getMessage().startswith(f"webhook tools session={SEED_GUID} tool={TOOL} outcome=ok status=200 ")
    assert (line.vns_endpoint, line.vns_outcome, line.vns_status) == ("tools", "ok", 200)  # type: ignore[attr-defined]


class SlowCall:
    """An app whose ``settle`` tool takes the call's state and then runs for 30 s, and one raw ASGI call of it."""

    def __init__(self, app: VNSApp) -> None:
        self.app = app
        self.running = asyncio.Event()
        self.sent: list[dict[str, Any]] = []

        @app.tool
        async def settle(call: CallContext) -> str:
            """Settles the bill, slowly."""
            call.state["settling"] = True
            self.running.set()
            await asyncio.sleep(30)
            return "settled"

    async def call(self) -> None:
        """Call ``settle`` (after a CallStart), as a server would call the app."""
        token = await start(self.app)

        async def receive() -> dict[str, Any]:
            body = json.dumps({"VoiceElements_InvokeTool": {"toolName": "settle", "sessionGuid": SEED_GUID}})
            return {"type": "http.request", "body": body.encode(), "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/vns/tools", "headers": [auth_header(token)]}
        await self.app(scope, receive, send)

    async def assert_lease_given_back(self) -> None:
        """The call's next handler need not wait for the lease to expire; the tool's change was not saved."""
        snapshot = await self.app.store.acquire_call(SEED_GUID, lease_seconds=5, wait_seconds=0)
        assert snapshot.lease is not None and "settling" not in snapshot.state


async def test_a_tool_call_the_server_cancels_is_answered_and_frees_the_state(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Under `vns-sdk serve`, a tool still running when the graceful shutdown runs out is cancelled.
    slow = SlowCall(make_app())
    with caplog.at_level(logging.INFO):
        serving = asyncio.create_task(slow.call())
        await asyncio.wait_for(slow.running.wait(), 5)
        # As uvicorn cancels what still runs when its graceful shutdown ends (its words, checked below).
        serving.cancel(msg=SHUTDOWN_CANCEL)
        await asyncio.wait_for(serving, 5)  # ends answered: no CancelledError for the server to log as an error
    assert not serving.cancelled()
    assert f'msg="{SHUTDOWN_CANCEL}"' in inspect.getsource(uvicorn.server)
    if sys.version_info >= (3, 11):
        assert serving.cancelling() == 0
    assert slow.sent[0]["status"] == 200
    assert json.loads(slow.sent[1]["body"])["error"] == "interrupted"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any(getattr(r, "vns_outcome", None) == "interrupted" for r in caplog.records)
    await slow.assert_lease_given_back()


async def test_any_other_cancellation_of_a_tool_call_goes_on_to_its_canceller(make_app: AppFactory) -> None:
    slow = SlowCall(make_app())
    # A timeout a middleware puts around the app still fires: the tool route does not take its cancel as its own.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(slow.call(), 0.2)
    assert slow.running.is_set() and slow.sent == []
    await slow.assert_lease_given_back()
