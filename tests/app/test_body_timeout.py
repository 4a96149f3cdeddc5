"""A body that does not arrive in time: 408, the connection closed, one quiet log line.

Driven through raw ASGI with a receive channel that delivers part of a body (or none) and then nothing,
as a server does for a client that stops sending; `tests/cli/test_cli_serve_process.py` does the same
over a real socket under ``vns-sdk serve``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from tests.app.conftest import AppFactory
from tests.app.test_adversarial import ROUTES, WEBHOOK_AUTH, auth_header, start, valid_body
from vns_sdk.app import VNSApp, VNSSettings
from vns_sdk.exceptions import ConfigurationError

TIMEOUT = 0.05


@pytest.fixture
def app(make_app: AppFactory) -> VNSApp:
    return make_app(body_timeout=TIMEOUT)


async def send_request(
    app: VNSApp, route: str, headers: list[tuple[bytes, bytes]], pieces: list[tuple[bytes, float]], *, ends: bool
) -> tuple[list[dict[str, Any]], bool]:
    """POST to ``route``, the body in ``pieces`` (each sent after its delay); unless ``ends``, nothing after them.

    Returns what the app sent and whether it asked for more of the body than there was.
    """
    sent: list[dict[str, Any]] = []
    queue = list(pieces)
    starved = False

    async def receive() -> dict[str, Any]:
        nonlocal starved
        if queue:
            body, delay = queue.pop(0)
            await asyncio.sleep(delay)
            return {"type": "http.request", "body": body, "more_body": bool(queue) or not ends}
        starved = True
        await asyncio.Event().wait()  # a client that stopped sending: the server has nothing more to give
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": route, "headers": headers, "query_string": b""}
    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    return sent, starved


async def credentials(app: VNSApp, route: str) -> list[tuple[bytes, bytes]]:
    return list(WEBHOOK_AUTH) if not route.startswith("/vns/tools") else [auth_header(await start(app))]


def assert_408(sent: list[dict[str, Any]]) -> None:
    start_message, body_message = sent
    assert start_message["status"] == 408
    headers = dict(start_message["headers"])
    assert headers[b"connection"] == b"close"  # the server closes the connection: the client cannot hold it
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body_message["body"]) == {
        "error": "request_timeout",
        "message": "The request body did not arrive in time.",
    }


@pytest.mark.parametrize("route", ROUTES)
async def test_half_a_body_then_nothing_is_answered_408(
    app: VNSApp, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    auth = await credentials(app, route)
    body = json.dumps(valid_body(route)).encode()
    caplog.set_level(logging.DEBUG, logger="vns_sdk")
    sent, starved = await send_request(app, route, auth, [(body[: len(body) // 2], 0)], ends=False)
    assert starved
    assert_408(sent)
    [line] = [record for record in caplog.records if getattr(record, "vns_endpoint", None)]
    assert (line.levelno, line.vns_status, line.vns_outcome) == (logging.INFO, 408, "body_timeout")  # type: ignore[attr-defined]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]


@pytest.mark.parametrize("route", ROUTES)
async def test_headers_then_no_body_at_all_is_answered_408(app: VNSApp, route: str) -> None:
    sent, starved = await send_request(app, route, await credentials(app, route), [], ends=False)
    assert starved
    assert_408(sent)


@pytest.mark.parametrize("route", ROUTES)
async def test_a_body_in_pieces_within_the_time_is_read(make_app: AppFactory, route: str) -> None:
    app = make_app(body_timeout=5.0)
    body = json.dumps(valid_body(route)).encode()
    pieces = [(body[i : i + 16], 0.01) for i in range(0, len(body), 16)]
    sent, starved = await send_request(app, route, await credentials(app, route), pieces, ends=True)
    assert not starved
    assert sent[0]["status"] == 200, sent


async def test_the_time_counts_for_the_whole_body_not_each_piece(app: VNSApp) -> None:
    # A piece every 20 ms never waits TIMEOUT for one piece, but the whole body takes far longer than TIMEOUT.
    body = b" " * 64 + json.dumps(valid_body("/vns/call-start")).encode()
    pieces = [(body[i : i + 4], 0.02) for i in range(0, len(body), 4)]
    sent, _ = await send_request(app, "/vns/call-start", list(WEBHOOK_AUTH), pieces, ends=True)
    assert_408(sent)


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_BODY_TIMEOUT", "2.5")
    assert VNSSettings().body_timeout == 2.5
    monkeypatch.delenv("VNS_BODY_TIMEOUT")
    assert VNSSettings().body_timeout == 5.0


@pytest.mark.parametrize("value", [0, -1.0])
def test_a_body_timeout_must_be_positive(make_app: AppFactory, value: float) -> None:
    with pytest.raises(ConfigurationError, match="body_timeout"):
        make_app(body_timeout=value)


@pytest.mark.parametrize("arrives", [True, False])
async def test_a_receive_that_is_not_a_coroutine_is_timed_too(app: VNSApp, arrives: bool) -> None:
    # ASGI asks only for an awaitable: a server (or middleware) may hand out futures instead of coroutines.
    route = "/vns/tools"
    headers = await credentials(app, route)
    body = json.dumps(valid_body(route)).encode()
    loop = asyncio.get_running_loop()
    sent: list[dict[str, Any]] = []

    def receive() -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        if arrives:
            future.set_result({"type": "http.request", "body": body, "more_body": False})
        return future  # else never set: the body never comes

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": route, "headers": headers, "query_string": b""}
    await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
    if arrives:
        assert sent[0]["status"] == 200, sent
    else:
        assert_408(sent)
