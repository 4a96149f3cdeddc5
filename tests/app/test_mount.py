"""VNSApp inside another application (FastAPI, Starlette), its lifespan, and the health route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.app.conftest import AUTH, RON, AppFactory, client_for, spec, start_call, tools_base
from vns_sdk.app import VNSApp
from vns_sdk.exceptions import StateStoreError
from vns_sdk.state import MemoryCallStateStore


class ClosingStore(MemoryCallStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.closed = 0
        self.reachable = True

    async def ping(self) -> bool:
        if not self.reachable:
            raise StateStoreError("down")
        return True

    async def aclose(self) -> None:
        self.closed += 1


async def test_mounted_in_fastapi(make_app: AppFactory) -> None:
    store = ClosingStore()
    vns = make_app(state_store=store)
    api = FastAPI(lifespan=vns.lifespan)

    @api.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    api.mount("/", vns)
    async with api.router.lifespan_context(api), client_for(api) as http:
        assert (await http.get("/hello")).json() == {"hello": "world"}
        url, headers = tools_base(await start_call(http))
        assert url == "https://agent.example.com/vns/tools"
        reply = await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
        end = await http.post("/vns/call-end", json=spec("call_end_request"), headers=AUTH)
        missing = await http.post("/vns/nothing", json={})
    assert reply.json() == RON
    assert end.json() == {"status": 0, "errorMessage": "Success"}
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert store.closed == 1


async def test_mounted_under_a_path_in_starlette(make_app: AppFactory) -> None:
    vns = make_app()
    host = Starlette(routes=[Mount("/agent", app=vns)])
    async with client_for(host) as http:
        answer = await start_call(http, prefix="/agent/vns")
        url, headers = tools_base(answer)
        # The tools URL VNS is given includes the mount path.
        assert url == "https://agent.example.com/agent/vns/tools"
        reply = await http.post(f"{url}?toolname=lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
    assert reply.json() == RON


async def test_mounted_with_a_public_url(make_app: AppFactory) -> None:
    vns = make_app(public_url="https://public.example.com")
    host = Starlette(routes=[Mount("/agent", app=vns)])
    async with client_for(host) as http:
        url, _ = tools_base(await start_call(http, prefix="/agent/vns"))
    assert url == "https://public.example.com/agent/vns/tools"


async def test_asgi_lifespan_opens_and_closes(make_app: AppFactory) -> None:
    store = ClosingStore()
    app = make_app(state_store=store)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert [message["type"] for message in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert store.closed == 1


async def test_startup_warns_when_the_store_is_unreachable(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = ClosingStore()
    store.reachable = False
    app = make_app(state_store=store)
    async with app.lifespan():
        pass
    assert any("not reachable at startup" in record.getMessage() for record in caplog.records)
    assert store.closed == 1


async def test_lifespan_reports_a_failing_shutdown(make_app: AppFactory) -> None:
    class Broken(MemoryCallStateStore):
        async def aclose(self) -> None:
            raise StateStoreError("close failed")

    app = make_app(state_store=Broken())
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert sent[-1] == {"type": "lifespan.shutdown.failed", "message": "close failed"}


@pytest.mark.parametrize("reachable", [True, False])
async def test_health(make_app: AppFactory, reachable: bool) -> None:
    store = ClosingStore()
    store.reachable = reachable
    app: VNSApp = make_app(state_store=store)
    async with client_for(app) as http:
        response = await http.get("/vns/health")
        head = await http.head("/vns/health")
    assert response.status_code == (200 if reachable else 503)
    assert response.json() == {
        "status": "ok" if reachable else "degraded",
        "store": {"type": "ClosingStore", "reachable": reachable},
        "state": {"writes_lost": 0, "starts_not_stored": 0, "call_ends_without_state": 0},
        "tools": 2,
        "secure": True,
    }
    assert head.status_code == response.status_code and head.content == b""
