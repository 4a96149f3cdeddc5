"""VNSApp's Starlette routing: the user's routes, mounts and middleware beside the webhooks."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.app.conftest import AUTH, RON, AppFactory, client_for, start_call, tools_base


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.path_params.get('name', 'world')}")


class StampMiddleware:
    """Adds ``x-stamp`` to every answer and counts the requests it saw, by path."""

    def __init__(self, app: ASGIApp, stamp: str) -> None:
        self.app = app
        self.stamp = stamp
        self.seen: list[str] = []
        StampMiddleware.last = self

    last: StampMiddleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-stamp", self.stamp.encode())]
            await send(message)

        await self.app(scope, receive, stamped)


async def test_routes_given_to_the_app_are_served_beside_the_webhooks(make_app: AppFactory) -> None:
    app = make_app(routes=[Route("/hello/{name}", hello)])
    async with client_for(app) as http:
        assert (await http.get("/hello/ada")).text == "hello ada"
        answer = await start_call(http)
        url, headers = tools_base(answer)
        reply = await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
    assert reply.json() == RON


async def test_add_route_and_mount_work_as_in_starlette(make_app: AppFactory) -> None:
    app = make_app()
    app.add_route("/hi", hello, methods=["GET"], name="hi")
    sub = Starlette(routes=[Route("/ping", lambda request: JSONResponse({"pong": True}))])
    app.mount("/admin", sub, name="admin")
    async with client_for(app) as http:
        assert (await http.get("/hi")).text == "hello world"
        assert (await http.get("/admin/ping")).json() == {"pong": True}
        assert (await http.get("/vns/health")).status_code == 200
    assert app.url_path_for("hi") == "/hi"
    assert app.url_path_for("call-start") == "/vns/call-start"
    assert app.url_path_for("tools") == "/vns/tools"
    assert [getattr(route, "name", None) for route in app.routes][:4] == ["tools", "call-start", "call-end", "health"]


async def test_middleware_sees_every_route_tool_calls_included(make_app: AppFactory) -> None:
    app = make_app(middleware=[Middleware(StampMiddleware, stamp="outer")])
    async with client_for(app) as http:
        answer = await start_call(http)
        url, headers = tools_base(answer)
        reply = await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
        missing = await http.get("/nowhere")
    assert reply.json() == RON and reply.headers["x-stamp"] == "outer"
    assert missing.status_code == 404 and missing.headers["x-stamp"] == "outer"
    assert StampMiddleware.last.seen == ["/vns/call-start", "/vns/tools/lookup_name_or_phone", "/nowhere"]


async def test_add_middleware_wraps_in_starlette_order_until_the_app_serves(make_app: AppFactory) -> None:
    app = make_app()
    app.add_middleware(StampMiddleware, stamp="inner")
    app.add_middleware(StampMiddleware, stamp="outer")
    async with client_for(app) as http:
        reply = await http.post("/vns/call-end", json={}, headers=AUTH)
    # The last added is the outermost: it stamps the answer last.
    assert reply.headers.get_list("x-stamp") == ["inner", "outer"]
    with pytest.raises(RuntimeError, match="after the app has started"):
        app.add_middleware(StampMiddleware, stamp="late")


async def test_unknown_paths_and_wrong_methods_answer_json_in_one_form(make_app: AppFactory) -> None:
    app = make_app(routes=[Route("/hello/{name}", hello)])
    async with client_for(app) as http:
        missing = await http.get("/vns/nowhere")
        wrong = await http.get("/vns/call-end")
        wrong_tools = await http.get("/vns/tools/lookup_name_or_phone")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json() == {"error": "method_not_allowed", "message": "Use POST on this route."}
    assert wrong_tools.status_code == 405 and wrong_tools.json()["error"] == "method_not_allowed"
