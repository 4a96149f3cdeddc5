"""Several workers sharing one Redis: a call's webhooks may each land on a different VNSApp."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.app.conftest import AUTH, RON, AppFactory, client_for, spec, start_call, tools_base
from vns_sdk.app import VNSApp
from vns_sdk.context import CallContext

pytestmark = pytest.mark.redis


@pytest.fixture
async def workers(make_app: AppFactory, redis_url: str) -> AsyncIterator[tuple[VNSApp, VNSApp]]:
    from vns_sdk.state import RedisCallStateStore

    prefix = f"test-app:{uuid.uuid4().hex}:"
    first = make_app(state_store=RedisCallStateStore(redis_url, key_prefix=prefix))
    second = make_app(state_store=RedisCallStateStore(redis_url, key_prefix=prefix))
    yield first, second
    await first.store.aclose()
    await second.store.aclose()


async def test_one_call_across_two_workers(workers: tuple[VNSApp, VNSApp]) -> None:
    first, second = workers
    ended: list[dict[str, object]] = []
    for worker in workers:

        @worker.on_call_end
        def record(call: CallContext) -> None:
            ended.append(call.state.to_dict())

    guid = str(uuid.uuid4())
    async with client_for(first) as on_first, client_for(second) as on_second:
        url, headers = tools_base(await start_call(on_first, guid=guid))
        body = {"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone", "sessionGuid": guid}, "name": "Ron"}
        assert (await on_second.post(url, json=body, headers=headers)).json() == RON
        assert (await on_first.post(url, json=body, headers=headers)).json() == RON
        report = spec("call_end_request") | {"sessionGuid": guid}
        end = await on_second.post("/vns/call-end", json=report, headers=AUTH)
        retry = await on_first.post("/vns/call-end", json=report, headers=AUTH)
        late = await on_first.post(url, json=body, headers=headers)
    assert end.json() == retry.json() == {"status": 0, "errorMessage": "Success"}
    assert ended == [{"lookups": 2}]  # both workers' writes, and the handlers ran once
    assert late.status_code == 410


async def test_redis_stopped_mid_call(make_app: AppFactory, redis_server_factory: Any) -> None:
    from vns_sdk.state import RedisCallStateStore

    server = redis_server_factory()
    app = make_app(state_store=RedisCallStateStore(server.url), tool_timeout=0.5)
    ended: list[bool] = []

    @app.on_call_end
    def record(call: CallContext) -> None:
        ended.append(call.state_available)

    guid = str(uuid.uuid4())
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http, guid=guid))
        server.stop()
        body = {"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone", "sessionGuid": guid}, "name": "Ron"}
        tool = await http.post(url, json=body, headers=headers)
        end = await http.post("/vns/call-end", json=spec("call_end_request") | {"sessionGuid": guid}, headers=AUTH)
        health = await http.get("/vns/health")
    assert tool.status_code == 200 and tool.json()["error"] == "unavailable"
    # CallEnd handlers are never skipped: they ran, told that the state could not be read.
    assert end.status_code == 200 and end.json()["status"] == 0
    assert ended == [False]
    assert health.status_code == 503 and health.json()["store"]["reachable"] is False
    await app.store.aclose()
