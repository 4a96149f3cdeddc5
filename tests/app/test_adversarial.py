"""Attacks on the real ASGI app: bad bodies, odd paths, methods and headers, stolen or forged tokens, leaks.

Every case is driven through `VNSApp` itself, mostly with raw ASGI messages so that what a client can put
on the wire (chunked bodies, lying lengths, bytes no HTTP library would send) reaches the app unchanged.
The promises: never a 500 for a client's mistake, every error body JSON with its designed status, and no
secret in any answer but CallStart's nor in any log record.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.app.conftest import OPENAI_KEY, SEED_GUID, WEBHOOK_TOKEN, AppFactory, spec
from vns_sdk.app import VNSApp
from vns_sdk.app._auth import ToolTokens
from vns_sdk.context import CallContext
from vns_sdk.exceptions import StateStoreError
from vns_sdk.models import CallEndRequest, CallStartRequest
from vns_sdk.state import MemoryCallStateStore

MIB = 1024 * 1024
OLD_TOKEN = "rotated-old-webhook-token-5150"
BASIC_PASSWORD = "basic-password-7c1e"
TOOL_SECRET = "tool-token-secret-33d9"
API_TOKEN = "vns-api-token-4b2a"
REDIS_PASSWORD = "redis-password-a1f0"
REDIS_URL = f"redis://default:{REDIS_PASSWORD}@redis.internal:6379/0"
SECRETS = {
    "OpenAI key": OPENAI_KEY,
    "webhook token": WEBHOOK_TOKEN,
    "rotated webhook token": OLD_TOKEN,
    "basic password": BASIC_PASSWORD,
    "tool-token secret": TOOL_SECRET,
    "API token": API_TOKEN,
    "Redis password": REDIS_PASSWORD,
}
WEBHOOKS = ["/vns/call-start", "/vns/call-end"]
ROUTES = [*WEBHOOKS, "/vns/tools", "/vns/tools/lookup_name_or_phone"]
STATUSES = {200, 400, 401, 403, 404, 405, 410, 413, 422}


@dataclass
class Reply:
    """What the app sent back for one raw ASGI request."""

    status: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def asgi(
    app: VNSApp,
    method: str,
    path: str,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    chunks: Sequence[bytes] | None = None,
    query: bytes = b"",
    raw_path: bytes | None = None,
) -> Reply:
    """Send one HTTP request to ``app`` as an ASGI server would and collect the answer.

    ``chunks`` sends the body in several ``http.request`` messages (as a chunked request arrives).
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": "",
        "headers": list(headers),
        "server": ("agent.example.com", 443),
        "client": ("203.0.113.9", 50000),
    }
    parts = list(chunks) if chunks is not None else [body]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1} for index, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent, f"{method} {path}: no answer"
    assert sent[0]["type"] == "http.response.start"
    assert len([m for m in sent if m["type"] == "http.response.start"]) == 1
    return Reply(
        status=sent[0]["status"],
        headers=dict(sent[0]["headers"]),
        body=b"".join(m.get("body", b"") for m in sent[1:]),
    )


def auth_header(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


WEBHOOK_AUTH = [auth_header(WEBHOOK_TOKEN)]


def assert_error(reply: Reply, status: int, error: str | None = None) -> dict[str, Any]:
    """``reply`` is a JSON error answer with ``status`` (and ``error``), naming no secret."""
    assert reply.status == status, reply.text
    assert reply.headers[b"content-type"] == b"application/json"
    body = reply.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    if error is not None:
        assert body["error"] == error, body
    assert_no_secret(reply.text)
    return body


def assert_no_secret(text: str, extra: Sequence[str] = ()) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, f"the {name} leaked: {text[:300]!r}"
    for secret in extra:
        assert secret not in text, f"a secret leaked: {text[:300]!r}"


def secure_app(make_app: AppFactory, **kwargs: Any) -> VNSApp:
    """An app configured with every kind of secret the app knows about."""
    kwargs.setdefault("state_store", MemoryCallStateStore())
    return make_app(
        webhook_token=[WEBHOOK_TOKEN, OLD_TOKEN],
        webhook_basic_auth=f"vns:{BASIC_PASSWORD}",
        tool_token_secret=TOOL_SECRET,
        redis_url=REDIS_URL,
        **kwargs,
    )


@pytest.fixture
def app(make_app: AppFactory) -> VNSApp:
    return secure_app(make_app)


async def start(app: VNSApp, guid: str = SEED_GUID) -> str:
    """Start a call and return its tool token."""
    body = json.dumps(spec("call_start_request") | {"sessionGuid": guid}).encode()
    reply = await asgi(app, "POST", "/vns/call-start", headers=WEBHOOK_AUTH, body=body)
    assert reply.status == 200, reply.text
    header: str = reply.json()["VoiceElements_Instructions"]["defaultToolsUrlBase"]["headers"]["Authorization"]
    return header.removeprefix("Bearer ")


def valid_body(route: str) -> dict[str, Any]:
    if route.endswith("call-start"):
        return spec("call_start_request")
    if route.endswith("call-end"):
        return spec("call_end_request")
    return {"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone"}, "name": "Ron"}


async def auth_for(app: VNSApp, route: str) -> list[tuple[bytes, bytes]]:
    """Credentials that pass on ``route``: the webhook token, or a live call's tool token."""
    if route in WEBHOOKS:
        return list(WEBHOOK_AUTH)
    return [auth_header(await start(app))]


# -- bodies -----------------------------------------------------------------------------------------------

DEEP = 100_000
BAD_BODIES: dict[str, tuple[bytes, int, str]] = {
    "malformed": (b'{"sessionGuid": "x",', 400, "malformed_json"),
    "not UTF-8": (b'{"sessionGuid": "\xff\xfe"}', 400, "malformed_json"),
    "latin-1": ('{"sessionGuid": "caf\xe9"}'.encode("latin-1"), 400, "malformed_json"),
    "trailing garbage": (b'{"sessionGuid": "x"} {}', 400, "malformed_json"),
    "bare word": (b"sessionGuid", 400, "malformed_json"),
    "NUL bytes": (b"\x00" * 64, 400, "malformed_json"),
    "deeply nested arrays": (b"[" * DEEP + b"]" * DEEP, 400, "malformed_json"),
    "deeply nested objects": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, 400, "malformed_json"),
    "unclosed nesting": (b"[" * DEEP, 400, "malformed_json"),
    "list": (b"[1, 2]", 422, "invalid_request"),
    "string": (b'"sessionGuid"', 422, "invalid_request"),
    "number": (b"12", 422, "invalid_request"),
    "null": (b"null", 422, "invalid_request"),
    "true": (b"true", 422, "invalid_request"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_bad_bodies_are_client_errors(app: VNSApp, route: str, case: str) -> None:
    body, status, error = BAD_BODIES[case]
    reply = await asgi(app, "POST", route, headers=await auth_for(app, route), body=body)
    assert_error(reply, status, error)


LONE_SURROGATES = {
    "high": b'{"sessionGuid": "\\ud800"}',
    "low": b'{"sessionGuid": "g-1", "customerCallId": "\\udc00x"}',
    "in a key": b'{"sessionGuid": "g-2", "\\udbff": 1}',
    "nested": b'{"sessionGuid": "g-3", "logInformation": {"a": ["\\uDFFF"]}}',
}


@pytest.mark.parametrize("route", WEBHOOKS)
@pytest.mark.parametrize("case", list(LONE_SURROGATES))
async def test_lone_surrogate_escapes_are_not_json_text(app: VNSApp, route: str, case: str) -> None:
    # A lone surrogate cannot be encoded as UTF-8: accepted, it would break the answer, the token, the store.
    reply = await asgi(app, "POST", route, headers=WEBHOOK_AUTH, body=LONE_SURROGATES[case])
    assert_error(reply, 400, "malformed_json")


@pytest.mark.parametrize("route", WEBHOOKS)
async def test_a_surrogate_pair_is_a_character(app: VNSApp, route: str) -> None:
    body = json.dumps(valid_body(route) | {"callerIdName": "Ron \U0001f600"}).encode()  # escaped as a pair
    assert b"\\ud83d\\ude00" in body
    reply = await asgi(app, "POST", route, headers=WEBHOOK_AUTH, body=body)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("route", WEBHOOKS)
async def test_numbers_duplicates_and_empty_bodies(app: VNSApp, route: str) -> None:
    base = json.dumps(valid_body(route))[1:-1]
    cases = {
        "huge integer": (f'{{{base}, "extra": {"9" * 5000}}}', {200, 400}),
        "huge exponent": (f'{{{base}, "extra": 1e999999}}', {200}),
        "NaN": (f'{{{base}, "extra": NaN}}', {200, 400}),
        "duplicate key, last valid": (f'{{"sessionGuid": 1, {base}}}', {200}),
        "duplicate key, last wrong": (f'{{{base}, "sessionGuid": 1}}', {422}),
        "empty": ("", {400}),
        "whitespace": (" \r\n\t ", {400}),
        "empty object": ("{}", {422}),
    }
    for name, (text, statuses) in cases.items():
        reply = await asgi(app, "POST", route, headers=WEBHOOK_AUTH, body=text.encode())
        assert reply.status in statuses, (name, reply.status, reply.text)
        assert isinstance(reply.json(), dict), name
        if reply.status != 200 or route.endswith("end"):  # CallStart's answer carries the OpenAI key
            assert_no_secret(reply.text)
    missing = await asgi(app, "POST", route, headers=WEBHOOK_AUTH, body=b"{}")
    assert {"field": "sessionGuid", "problem": "Field required"} in assert_error(missing, 422)["problems"]


# Fields that take any JSON object; every other field is refused one.
OBJECT_FIELDS = {"outboundCallResult", "logInformation"}


@pytest.mark.parametrize("route", WEBHOOKS)
async def test_wrong_types_in_every_field_name_the_field_and_echo_nothing(app: VNSApp, route: str) -> None:
    body = valid_body(route)
    model = CallStartRequest if route.endswith("start") else CallEndRequest
    fields = [field.alias or name for name, field in model.model_fields.items()]
    wrong_values: list[Any] = [
        {"token": WEBHOOK_TOKEN},
        [OPENAI_KEY],
        f"not-a-value-{TOOL_SECRET}",
        10**40,
        -1.5e308,
        True,
    ]
    checked = 0
    for field in dict.fromkeys(fields):
        for value in wrong_values:
            reply = await asgi(
                app, "POST", route, headers=WEBHOOK_AUTH, body=json.dumps(body | {field: value}).encode()
            )
            assert reply.status in (200, 422), (field, value, reply.text)
            if reply.status == 422 or route.endswith("end"):
                assert_no_secret(reply.text)
            if reply.status == 422:
                checked += 1
                problems = assert_error(reply, 422, "invalid_request")["problems"]
                assert any(problem["field"].split(".")[0] == field for problem in problems), (field, problems)
                assert "errors.pydantic.dev" not in reply.text
            elif isinstance(value, dict):
                assert field in OBJECT_FIELDS, (field, reply.text)
    assert checked > len(fields)


# -- sizes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
async def test_bodies_over_the_limit_are_413_however_they_arrive(app: VNSApp, route: str) -> None:
    auth = await auth_for(app, route)
    over = b" " * (MIB + 1)
    cases = {
        "announced": dict(headers=[*auth, (b"content-length", str(MIB + 1).encode())], body=b"{}"),
        "announced huge": dict(headers=[*auth, (b"content-length", b"9" * 40)], body=b"{}"),
        "chunked, no length": dict(headers=auth, chunks=[b" " * 65536] * 17),
        "one message, no length": dict(headers=auth, body=over),
        "length lies low": dict(headers=[*auth, (b"content-length", b"2")], body=over),
        "length lies low, chunked": dict(headers=[*auth, (b"content-length", b"2")], chunks=[b"{}", over]),
        "length not a number": dict(headers=[*auth, (b"content-length", b"lots")], chunks=[over, b"{}"]),
        "negative length": dict(headers=[*auth, (b"content-length", b"-5")], body=over),
    }
    for name, request in cases.items():
        reply = await asgi(app, "POST", route, **request)  # type: ignore[arg-type]
        body = assert_error(reply, 413, "too_large")
        assert body == {"error": "too_large", "message": "The request body is too large."}, name
        assert reply.headers[b"connection"] == b"close", name  # the rest of the body may still be coming


@pytest.mark.parametrize("route", ROUTES)
async def test_a_body_at_the_limit_is_read(app: VNSApp, route: str) -> None:
    auth = await auth_for(app, route)
    body = json.dumps(valid_body(route)).encode()
    padded = body + b" " * (MIB - len(body))
    chunks = [padded[i : i + 100_000] for i in range(0, MIB, 100_000)]
    reply = await asgi(app, "POST", route, headers=auth, chunks=chunks)
    assert reply.status == 200, reply.text


async def test_a_client_that_leaves_mid_body_gets_no_answer_and_no_error(
    app: VNSApp, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    for route in ROUTES:
        auth = await auth_for(app, route)
        scope = {"type": "http", "method": "POST", "path": route, "headers": auth, "query_string": b""}
        messages = iter([{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}])
        with caplog.at_level(logging.ERROR, logger="vns_sdk"):
            await app(scope, lambda pending=messages: _next(pending), send)
    assert sent == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def _next(messages: Iterator[dict[str, Any]]) -> dict[str, Any]:
    return next(messages)


# -- paths, queries, methods, scopes --------------------------------------------------------------------

ODD_TOOL_PATHS: dict[str, tuple[str, bytes]] = {
    "double slash": ("/vns/tools//", b"/vns/tools//"),
    "four segments": ("/vns/tools/a/b/c/d", b"/vns/tools/a/b/c/d"),
    "many segments": ("/vns/tools" + "/x" * 500, b"/vns/tools" + b"/x" * 500),
    "percent junk": ("/vns/tools/%zz/%", b"/vns/tools/%zz/%"),
    "encoded NUL": ("/vns/tools/look\x00up", b"/vns/tools/look%00up"),
    "encoded slashes": ("/vns/tools/a/b/c", b"/vns/tools%2Fa%2Fb%2Fc"),
    "dot segments": ("/vns/tools/../../etc/passwd", b"/vns/tools/%2E%2E/%2E%2E/etc/passwd"),
    "very long": ("/vns/tools/" + "a" * 100_000, b"/vns/tools/" + b"a" * 100_000),
    "unicode": ("/vns/tools/\u00e9\u4e2d\U0001f600", "/vns/tools/\u00e9\u4e2d\U0001f600".encode()),
    "surrogate escape": ("/vns/tools/\udcff", b"/vns/tools/%FF"),
    "lookalike": ("/vns/tools/lookup_name_or_phone\u200b", "/vns/tools/lookup_name_or_phone\u200b".encode()),
}


@pytest.mark.parametrize("case", list(ODD_TOOL_PATHS))
async def test_odd_tool_paths(app: VNSApp, case: str) -> None:
    path, raw = ODD_TOOL_PATHS[case]
    token = await start(app)
    for headers in ([auth_header(token)], [], list(WEBHOOK_AUTH)):
        reply = await asgi(app, "POST", path, raw_path=raw, headers=headers, body=b'{"name": "Ron"}')
        assert reply.status in STATUSES, (case, reply.status, reply.text)
        body = reply.json()
        assert isinstance(body, dict)
        assert_no_secret(reply.text, [token])
        if not headers or headers == WEBHOOK_AUTH:
            assert reply.status == 401, case
        elif reply.status == 200:
            # A tool call that names no registered tool is told which exist.
            assert body["error"] == "unknown_tool", (case, body)


async def test_a_long_path_of_tools_segments_is_decoded_a_few_times(
    app: VNSApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import unquote

    from vns_sdk.app import _tools_route as tool_calls

    decoded: list[str] = []

    def counting_unquote(text: str) -> str:
        decoded.append(text)
        return unquote(text)

    monkeypatch.setattr(tool_calls, "unquote", counting_unquote)
    token = await start(app)
    raw = "/vns/tools" + "/tools%41" * 2000
    reply = await asgi(app, "POST", unquote(raw), raw_path=raw.encode(), headers=[auth_header(token)], body=b"{}")
    assert_error(reply, 404, "not_found")
    assert len(decoded) < 10
    # An encoded path that fits a form is still split on its raw slashes.
    decoded.clear()
    raw = f"/vns/tools/{SEED_GUID}/lookup_name_or_phone/a%2Fb"
    reply = await asgi(app, "POST", unquote(raw), raw_path=raw.encode(), headers=[auth_header(token)], body=b"{}")
    assert reply.status == 200 and reply.json()["contactFound"] is False
    assert decoded


async def test_odd_paths_elsewhere(app: VNSApp) -> None:
    for path in ("/", "", "/vns", "/vns/", "//vns/call-start", "/vns/call-start/x", "/VNS/call-start", "/vns/\x00"):
        for method in ("POST", "GET"):
            reply = await asgi(app, method, path, headers=WEBHOOK_AUTH, body=b"{}")
            assert reply.status in (404, 405), (method, path, reply.status)
            assert_error(reply, reply.status)
    # A trailing slash reaches the route.
    reply = await asgi(
        app, "POST", "/vns/call-end/", headers=WEBHOOK_AUTH, body=json.dumps(valid_body("/vns/call-end")).encode()
    )
    assert reply.status == 200


ODD_QUERIES = [
    b"",
    b"toolname=",
    b"toolname=&toolname=lookup_name_or_phone",
    b"toolname=lookup_name_or_phone&toolname=nope",
    b"toolname=%zz",
    b"toolname=%00",
    b"toolname=\xff\xfe",
    b"TOOLNAME=lookup_name_or_phone&SessionGuid=" + SEED_GUID.encode(),
    b"sessionguid=other-call&toolname=lookup_name_or_phone",
    b"&&&==&=&toolname",
    b"toolname=" + b"x" * 100_000,
    b"a=" + b"&a=" * 10_000,
    b";toolname=lookup_name_or_phone",
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
async def test_odd_query_strings(app: VNSApp, query: bytes) -> None:
    token = await start(app)
    reply = await asgi(app, "POST", "/vns/tools", query=query, headers=[auth_header(token)], body=b'{"name": "Ron"}')
    assert reply.status in (200, 401, 422), reply.text
    body = reply.json()
    assert isinstance(body, dict)
    assert_no_secret(reply.text, [token])
    if b"other-call" in query:
        assert reply.status == 401 and body["error"] == "unauthorized"
    # The webhook routes ignore the query.
    webhook = await asgi(app, "POST", "/vns/call-end", query=query, headers=WEBHOOK_AUTH, body=b"{}")
    assert webhook.status == 422


@pytest.mark.parametrize("route", [*ROUTES, "/vns/health", "/vns/nowhere"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "FOO"])
async def test_other_methods(app: VNSApp, route: str, method: str) -> None:
    reply = await asgi(app, method, route, headers=WEBHOOK_AUTH, body=b"{}")
    if route.endswith("nowhere"):
        assert_error(reply, 404, "not_found")
    elif route.endswith("health") and method in ("GET", "HEAD"):
        assert reply.status == 200
        assert reply.body == b"" if method == "HEAD" else reply.json()["status"] == "ok"
    else:
        assert_error(reply, 405, "method_not_allowed")
        assert reply.headers[b"allow"] in (b"POST", b"GET, HEAD")


@pytest.mark.parametrize("path", [*ROUTES, "/vns/health", "/elsewhere"])
async def test_websocket_scopes_are_closed(app: VNSApp, path: str) -> None:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": path, "raw_path": path.encode(), "headers": list(WEBHOOK_AUTH)}
    await app(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


# -- credentials ----------------------------------------------------------------------------------------

BAD_WEBHOOK_CREDENTIALS: dict[str, list[tuple[bytes, bytes]]] = {
    "none": [],
    "scheme only": [(b"authorization", b"Bearer")],
    "scheme and spaces": [(b"authorization", b"Bearer     ")],
    "empty": [(b"authorization", b"")],
    "other scheme": [(b"authorization", f"Token {WEBHOOK_TOKEN}".encode())],
    "no scheme": [(b"authorization", WEBHOOK_TOKEN.encode())],
    "tab for space": [(b"authorization", f"Bearer\t{WEBHOOK_TOKEN}".encode())],
    "extra word": [(b"authorization", f"Bearer {WEBHOOK_TOKEN} extra".encode())],
    "NUL suffix": [(b"authorization", f"Bearer {WEBHOOK_TOKEN}\x00".encode())],
    "prefix": [auth_header(WEBHOOK_TOKEN[:-1])],
    "longer": [auth_header(WEBHOOK_TOKEN + "0")],
    "upper-cased token": [auth_header(WEBHOOK_TOKEN.upper())],
    "non-latin-1 bytes": [(b"authorization", b"Bearer \xe2\x82\xac\xff\xfe")],
    "non-ASCII lookalike": [(b"authorization", ("Bearer " + WEBHOOK_TOKEN.replace("e", "\u0435")).encode())],
    "two wrong": [auth_header("guess-1"), auth_header("guess-2")],
    "basic, bad base64": [(b"authorization", b"Basic %%%notbase64")],
    "basic, wrong password": [(b"authorization", b"Basic " + base64.b64encode(b"vns:guess"))],
    "basic, webhook token": [(b"authorization", b"Basic " + base64.b64encode(f"vns:{WEBHOOK_TOKEN}".encode()))],
    "token in another header": [(b"x-authorization", f"Bearer {WEBHOOK_TOKEN}".encode())],
    "token in the cookie": [(b"cookie", f"Authorization=Bearer {WEBHOOK_TOKEN}".encode())],
}


@pytest.mark.parametrize("route", WEBHOOKS)
@pytest.mark.parametrize("case", list(BAD_WEBHOOK_CREDENTIALS))
async def test_bad_webhook_credentials(app: VNSApp, route: str, case: str) -> None:
    body = json.dumps(valid_body(route)).encode()
    reply = await asgi(app, "POST", route, headers=BAD_WEBHOOK_CREDENTIALS[case], body=body)
    assert_error(reply, 401, "unauthorized")
    assert reply.headers[b"www-authenticate"].startswith(b"Bearer")


GOOD_WEBHOOK_CREDENTIALS: dict[str, list[tuple[bytes, bytes]]] = {
    "bearer": [auth_header(WEBHOOK_TOKEN)],
    "rotated token": [auth_header(OLD_TOKEN)],
    "scheme casing": [(b"authorization", f"bEaReR {WEBHOOK_TOKEN}".encode())],
    "padding": [(b"authorization", f"  Bearer   {WEBHOOK_TOKEN}  ".encode())],
    "basic": [(b"authorization", b"Basic " + base64.b64encode(f"vns:{BASIC_PASSWORD}".encode()))],
}


@pytest.mark.parametrize("route", WEBHOOKS)
@pytest.mark.parametrize("case", list(GOOD_WEBHOOK_CREDENTIALS))
async def test_good_webhook_credentials(app: VNSApp, route: str, case: str) -> None:
    body = json.dumps(valid_body(route)).encode()
    reply = await asgi(app, "POST", route, headers=GOOD_WEBHOOK_CREDENTIALS[case], body=body)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("route", WEBHOOKS)
async def test_repeated_authorization_headers_never_fail_open(app: VNSApp, route: str) -> None:
    body = json.dumps(valid_body(route)).encode()
    for headers in ([auth_header("guess"), auth_header(WEBHOOK_TOKEN)], [auth_header(WEBHOOK_TOKEN), auth_header("x")]):
        reply = await asgi(app, "POST", route, headers=headers, body=body)
        assert reply.status in (200, 401), reply.text
        if route.endswith("end") or reply.status == 401:
            assert_no_secret(reply.text)
    both_bad = await asgi(app, "POST", route, headers=[auth_header("a-guess"), auth_header("b-guess")], body=body)
    assert_error(both_bad, 401, "unauthorized")


async def test_the_webhook_token_in_a_custom_header_is_the_bare_token(make_app: AppFactory) -> None:
    app = make_app(webhook_token=WEBHOOK_TOKEN, webhook_header="X-VNS-Token")
    body = json.dumps(valid_body("/vns/call-end")).encode()
    for value, status in (
        (WEBHOOK_TOKEN.encode(), 200),
        (f" {WEBHOOK_TOKEN} ".encode(), 200),
        (f"Bearer {WEBHOOK_TOKEN}".encode(), 401),
        (b"", 401),
        (b"\xff" * 20, 401),
    ):
        reply = await asgi(app, "POST", "/vns/call-end", headers=[(b"x-vns-token", value)], body=body)
        assert reply.status == status, value
    reply = await asgi(app, "POST", "/vns/call-end", headers=WEBHOOK_AUTH, body=body)
    assert_error(reply, 401)


# -- tool tokens ----------------------------------------------------------------------------------------


async def call_tool(
    app: VNSApp, headers: list[tuple[bytes, bytes]], path: str = "/vns/tools", body: Any = None, query: bytes = b""
) -> Reply:
    if body is None:
        body = {"VoiceElements_InvokeTool": {"toolName": "lookup_name_or_phone"}, "name": "Ron"}
    return await asgi(app, "POST", path, headers=headers, body=json.dumps(body).encode(), query=query)


def forged_tokens(token: str) -> Iterator[tuple[str, str, str]]:
    """``(case, token, reason)``: tokens the app must refuse, made from a genuine ``token``."""
    version, guid_b64, expiry, signature = token.split(".")
    other_key = ToolTokens.derive("another-apps-secret-0000")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    yield "random", "v1.abc.123.def", "bad_signature"
    yield "truncated", token[:-4], "bad_signature"
    yield "signature cut", f"{version}.{guid_b64}.{expiry}.", "bad_signature"
    yield "signature flipped", f"{version}.{guid_b64}.{expiry}.{flipped}", "bad_signature"
    yield "longer expiry", f"{version}.{guid_b64}.{int(expiry) + 3600}.{signature}", "bad_signature"
    yield "other guid", f"{version}.{guid_b64[:-2]}AA.{expiry}.{signature}", "bad_signature"
    yield "re-signed with another key", other_key.issue(SEED_GUID, 600), "bad_signature"
    # Another spelling of the genuine signature: the spare bits of its last character, or stray characters.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    yield "signature respelled", f"{version}.{guid_b64}.{expiry}.{respelled}", "malformed"
    yield "stray characters", f"{version}.{guid_b64}.{expiry}.{signature[:8]}*!*!{signature[8:]}", "malformed"
    yield "version 2", f"v2.{guid_b64}.{expiry}.{signature}", "malformed"
    yield "no dots", token.replace(".", ""), "malformed"
    yield "extra part", f"{token}.x", "malformed"
    yield "signature not base64", f"{version}.{guid_b64}.{expiry}.!!!*", "malformed"
    yield "the webhook token", WEBHOOK_TOKEN, "malformed"
    yield "the rotated webhook token", OLD_TOKEN, "malformed"
    yield "the tool-token secret", TOOL_SECRET, "malformed"
    yield "the OpenAI key", OPENAI_KEY, "malformed"
    yield "empty", "", "missing"


async def test_forged_tool_tokens_are_refused(app: VNSApp) -> None:
    token = await start(app)
    for case, forged, _reason in forged_tokens(token):
        for path in ("/vns/tools", "/vns/tools/lookup_name_or_phone", f"/vns/tools/{SEED_GUID}/lookup_name_or_phone/"):
            reply = await call_tool(app, [auth_header(forged)], path)
            assert_error(reply, 401, "unauthorized")
            assert_no_secret(reply.text, [token, forged] if forged else [token])
            assert "lookup" not in reply.text, case
    raw_bad = [
        b"Bearer \xff\xfe\xfd",
        b"Bearer v1.\xff.1.\xff",
        b"Bearer " + b"." * 1000,
        b"Bearer v1." + b"A" * 100_000,
    ]
    for value in raw_bad:
        assert_error(await call_tool(app, [(b"authorization", value)]), 401, "unauthorized")


async def test_tool_tokens_only_work_as_bearer_tokens_on_the_tools_route(app: VNSApp) -> None:
    token = await start(app)
    for scheme in ("Basic", "Token", ""):
        reply = await call_tool(app, [(b"authorization", f"{scheme} {token}".strip().encode())])
        assert_error(reply, 401, "unauthorized")
    assert_error(await call_tool(app, [(b"x-tool-token", token.encode())]), 401, "unauthorized")
    # Not a webhook credential either: a tool token cannot start a call (and read the OpenAI key) or end one.
    for route in WEBHOOKS:
        reply = await asgi(
            app, "POST", route, headers=[auth_header(token)], body=json.dumps(valid_body(route)).encode()
        )
        assert_error(reply, 401, "unauthorized")
    reply = await call_tool(app, [(b"authorization", f"bearer   {token}  ".encode())])
    assert reply.status == 200 and reply.json()["contactName"] == "Ron Tanner"


async def test_a_tool_token_signed_by_the_app_but_expired_is_refused(app: VNSApp) -> None:
    await start(app)
    # Signed with the app's own key, at a time long past.
    expired = ToolTokens.derive(TOOL_SECRET, clock=lambda: 1_000_000.0).issue(SEED_GUID, 600)
    assert_error(await call_tool(app, [auth_header(expired)]), 401, "unauthorized")
    assert "expired" in (await call_tool(app, [auth_header(expired)])).json()["message"]
    # And one whose sessionGuid is not UTF-8, signed with the app's key.
    signer = ToolTokens.derive(TOOL_SECRET)
    signed = "v1." + base64.urlsafe_b64encode(b"\xff\xfe").rstrip(b"=").decode() + ".9999999999"
    odd = f"{signed}.{base64.urlsafe_b64encode(signer._sign(signed.encode())).rstrip(b'=').decode()}"
    assert_error(await call_tool(app, [auth_header(odd)]), 401, "unauthorized")


async def test_a_tool_token_is_bound_to_its_call(app: VNSApp) -> None:
    other = "0b1c2d3e-0000-4000-8000-00000000beef"
    token = await start(app, SEED_GUID)
    other_token = await start(app, other)
    tool = "lookup_name_or_phone"
    for path, body, query in (
        ("/vns/tools", {"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": other}}, b""),
        (f"/vns/tools/{other}/{tool}/ccid", {"name": "Ron"}, b""),
        (f"/vns/tools/{tool}/{other}/ccid", {"name": "Ron"}, b""),
        (f"/vns/tools/{other}/{tool}/", {"name": "Ron"}, b""),
        ("/vns/tools", {"name": "Ron"}, f"toolname={tool}&sessionguid={other}".encode()),
        # Several claims: every one must be the token's call.
        (f"/vns/tools/{SEED_GUID}/{tool}/x", {"VoiceElements_InvokeTool": {"sessionGuid": other}}, b""),
        (f"/vns/tools/{SEED_GUID}/{tool}/x", {}, f"sessionguid={other}".encode()),
    ):
        reply = await call_tool(app, [auth_header(token)], path, body, query)
        body_out = assert_error(reply, 401, "unauthorized")
        assert body_out["message"] == "The tool token belongs to another call.", path
        assert_no_secret(reply.text, [token, other_token])
    # The same forms with the token's own call go through.
    reply = await call_tool(app, [auth_header(token)], f"/vns/tools/{SEED_GUID}/{tool}/ccid", {"name": "Ron"})
    assert reply.status == 200 and reply.json()["contactFound"] is True


async def test_a_tool_token_dies_with_its_call(app: VNSApp) -> None:
    token = await start(app)
    assert (await call_tool(app, [auth_header(token)])).status == 200
    end = json.dumps(spec("call_end_request") | {"sessionGuid": SEED_GUID}).encode()
    assert (await asgi(app, "POST", "/vns/call-end", headers=WEBHOOK_AUTH, body=end)).status == 200
    for path in ("/vns/tools", "/vns/tools/lookup_name_or_phone", "/vns/tools/end_conversation"):
        reply = await call_tool(app, [auth_header(token)], path)
        assert_error(reply, 410, "call_ended")
    # Only the app signs tool tokens, and only in a CallStart answer: a valid token for a call the store has no
    # record of is a call whose CallStart was answered while the store was down, and it is served. Its CallEnd
    # ends it as any other.
    never = ToolTokens.derive(TOOL_SECRET).issue("never-stored-call", 600)
    assert (await call_tool(app, [auth_header(never)])).status == 200
    end = json.dumps(spec("call_end_request") | {"sessionGuid": "never-stored-call"}).encode()
    assert (await asgi(app, "POST", "/vns/call-end", headers=WEBHOOK_AUTH, body=end)).status == 200
    assert_error(await call_tool(app, [auth_header(never)]), 410, "call_ended")


async def test_repeated_authorization_headers_on_tool_calls(app: VNSApp) -> None:
    token = await start(app)
    for headers in ([auth_header("forged"), auth_header(token)], [auth_header(token), auth_header("forged")]):
        reply = await call_tool(app, headers)
        assert reply.status in (200, 401)
        assert_no_secret(reply.text, [token])
    assert_error(await call_tool(app, [auth_header("a"), auth_header("b")]), 401, "unauthorized")


async def test_wrong_types_in_tool_requests(app: VNSApp) -> None:
    token = await start(app)
    headers = [auth_header(token)]
    tool = "lookup_name_or_phone"
    cases: list[tuple[Any, set[int], str | None]] = [
        ({"VoiceElements_InvokeTool": "lookup"}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": [tool]}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": {"toolName": 5}}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": {"toolName": [tool]}}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": {"toolName": {"n": tool}}}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": {}}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": None, "name": "Ron"}, {422}, "invalid_request"),
        ({"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": {"g": 1}}}, {401}, "unauthorized"),
        ({"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": 12}}, {401}, "unauthorized"),
        ({"VoiceElements_InvokeTool": {"toolName": tool}, "name": {"first": "Ron"}}, {200}, "invalid_arguments"),
        ({"VoiceElements_InvokeTool": {"toolName": tool}, "name": [OPENAI_KEY]}, {200}, "invalid_arguments"),
        ({"VoiceElements_InvokeTool": {"toolName": tool}, "phoneNumber": 10**400}, {200}, "invalid_arguments"),
        ({"VoiceElements_InvokeTool": {"toolName": tool}, "call": "not the context"}, {200}, None),
        ({"VoiceElements_InvokeTool": {"toolName": "nope\x00"}}, {200}, "unknown_tool"),
        ({"VoiceElements_InvokeTool": {"toolName": "x" * 10_000}}, {200}, "unknown_tool"),
    ]
    for body, statuses, error in cases:
        reply = await call_tool(app, headers, "/vns/tools", body)
        assert reply.status in statuses, (body, reply.status, reply.text)
        answer = reply.json()
        assert isinstance(answer, dict)
        if error is not None:
            assert answer.get("error") == error, (body, answer)
        assert_no_secret(reply.text, [token])
        assert "Traceback" not in reply.text and "errors.pydantic.dev" not in reply.text
        assert len(reply.body) < 2000


TOOL_BODIES_WITH_LONE_SURROGATES = [
    b'{"VoiceElements_InvokeTool": {"toolName": "echo"}, "text": "\\ud800"}',
    b'{"VoiceElements_InvokeTool": {"toolName": "echo"}, "text": "ok \\ud83d\\ude00 then \\ude00"}',
    b'{"VoiceElements_InvokeTool": {"toolName": "\\udfff"}}',
    b'{"VoiceElements_InvokeTool": {"toolName": "echo", "sessionGuid": "\\ud800"}, "text": "x"}',
    b'{"VoiceElements_InvokeTool": {"toolName": "echo"}, "\\ud800": 1, "text": "x"}',
]


def add_echo(app: VNSApp) -> None:
    @app.tool
    async def echo(text: str, call: CallContext) -> dict[str, str]:
        """Says the text back and keeps it in the call state."""
        call.state["said"] = text
        return {"said": text}


async def check_lone_surrogates(app: VNSApp) -> None:
    add_echo(app)
    token = await start(app)
    statuses = []
    for body in TOOL_BODIES_WITH_LONE_SURROGATES:
        reply = await asgi(app, "POST", "/vns/tools", headers=[auth_header(token)], body=body)
        statuses.append(reply.status)
        assert isinstance(reply.json(), dict)
        if len(statuses) == 2:
            # The tool ran; what it said and stored cannot be UTF-8: the model hears it failed, nothing is stored.
            assert reply.json()["error"] == "error"
            loaded = await app.store.load_call(SEED_GUID)
            assert loaded is not None and "said" not in loaded[1]
    assert statuses == [200, 200, 200, 401, 200]
    # A surrogate pair is one character, and goes through.
    body = b'{"VoiceElements_InvokeTool": {"toolName": "echo"}, "text": "\\ud83d\\ude00"}'
    reply = await asgi(app, "POST", "/vns/tools", headers=[auth_header(token)], body=body)
    assert reply.status == 200 and reply.json() == {"said": "\U0001f600"}
    loaded = await app.store.load_call(SEED_GUID)
    assert loaded is not None and "said" in loaded[1]


async def test_lone_surrogates_in_tool_calls(app: VNSApp) -> None:
    await check_lone_surrogates(app)


@pytest.mark.redis
async def test_lone_surrogates_in_tool_calls_never_reach_redis(make_app: AppFactory, redis_url: str) -> None:
    # Redis stores UTF-8: a lone surrogate in the call state made the store raise outside its own errors (a 500).
    from vns_sdk.state import RedisCallStateStore

    store = RedisCallStateStore(redis_url, key_prefix=f"test-adversarial:{id(make_app)}:")
    try:
        await check_lone_surrogates(secure_app(make_app, state_store=store))
    finally:
        await store.aclose()


# -- secrets --------------------------------------------------------------------------------------------


class Collect(logging.Handler):
    """Keeps every record, formatted the way a production handler would format it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self, record: logging.LogRecord) -> list[str]:
        texts = [self.format(record), record.getMessage(), repr(record.args), repr(record.__dict__)]
        if record.exc_text:
            texts.append(record.exc_text)
        if record.exc_info and record.exc_info[1] is not None:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
        return texts


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


class LeakyStore(MemoryCallStateStore):
    """A store whose errors name the Redis URL, as a driver's error message may."""

    async def save_call(self, lease: Any, updates: Any, deleted: Any, ttl: float) -> bool:
        await super().save_call(lease, {}, [], ttl)  # the lease goes, the write does not
        raise StateStoreError(f"cannot write to {REDIS_URL}")


async def test_no_secret_in_any_answer_or_log_record_across_a_failing_call(
    make_app: AppFactory, settings: Any, collected: Collect
) -> None:
    every_secret = " / ".join(SECRETS.values())
    app = secure_app(
        make_app,
        state_store=LeakyStore(),
        settings=settings.model_copy(update={"api_token": API_TOKEN, "tool_timeout": 0.2}),
    )

    @app.tool
    async def crm_lookup(customer: str, call: CallContext) -> dict[str, Any]:
        """Looks up the customer in the CRM.

        Args:
            customer: The customer's name.
        """
        call.state["looked_up"] = customer
        raise ConnectionError(f"CRM refused {every_secret}")

    @app.tool
    async def remember(value: str, call: CallContext) -> dict[str, Any]:
        """Remembers a value.

        Args:
            value: What to remember.
        """
        call.state["value"] = value
        return {"ok": True}

    @app.on_call_start
    async def failing_start(call: CallContext) -> None:
        raise RuntimeError(f"profile service said no: {every_secret}")

    @app.on_call_end
    async def failing_end(call: CallContext) -> None:
        raise ValueError(f"warehouse refused {every_secret}")

    token = await start(app)
    issued = [token, token.rsplit(".", 1)[1]]
    headers = [auth_header(token)]
    answers: list[Reply] = [
        await call_tool(app, headers, "/vns/tools/crm_lookup", {"customer": "Ron"}),
        await call_tool(app, headers, "/vns/tools/remember", {"value": "x"}),
        await call_tool(app, headers, "/vns/tools/remember", {"value": {"token": WEBHOOK_TOKEN}}),
        await call_tool(app, headers, "/vns/tools/remember", {"value": WEBHOOK_TOKEN, "extra": OPENAI_KEY}),
        await call_tool(app, headers, "/vns/tools/nope", {}),
        await call_tool(app, [auth_header(token + "x")], "/vns/tools/remember", {}),
        await call_tool(app, [auth_header(WEBHOOK_TOKEN)], "/vns/tools/remember", {}),
        await asgi(app, "POST", "/vns/call-start", headers=[auth_header(token)], body=b"{}"),
        await asgi(
            app,
            "POST",
            "/vns/call-start",
            headers=WEBHOOK_AUTH,
            body=b'{"sessionGuid": {"t": "%s"}}' % WEBHOOK_TOKEN.encode(),
        ),
        await asgi(app, "POST", "/vns/call-start", headers=[auth_header(OPENAI_KEY)], body=b"{}"),
        await asgi(
            app, "POST", "/vns/call-end", headers=WEBHOOK_AUTH, body=json.dumps({"sessionGuid": [OLD_TOKEN]}).encode()
        ),
        await asgi(
            app,
            "POST",
            "/vns/call-end",
            headers=WEBHOOK_AUTH,
            body=json.dumps(valid_body("/vns/call-end") | {"sessionGuid": SEED_GUID}).encode(),
        ),
        await call_tool(app, headers, "/vns/tools/remember", {"value": "after the end"}),
        await asgi(app, "GET", "/vns/health"),
    ]
    statuses = [answer.status for answer in answers]
    assert statuses == [200, 200, 200, 200, 200, 401, 401, 401, 422, 401, 422, 200, 410, 200], statuses
    assert answers[0].json()["error"] == "error"
    assert answers[1].json() == {"ok": True}  # the state could not be saved; the model still hears the answer
    assert answers[11].json() == {"status": 1, "errorMessage": "A CallEnd handler failed."}
    for answer in answers:
        assert_no_secret(answer.text, issued)

    records = collected.records
    assert any(record.name == "vns_sdk.tools" and record.levelno == logging.ERROR for record in records)
    assert sum(record.name == "vns_sdk.app" and record.levelno == logging.ERROR for record in records) >= 3
    for record in records:
        for text in collected.texts(record):
            for name, secret in [*SECRETS.items(), ("issued tool token", token), ("its signature", issued[1])]:
                assert secret not in text, f"the {name} leaked into a {record.name} record: {record.getMessage()!r}"
    # The records still say what failed.
    assert any("CRM refused [redacted]" in (record.exc_text or "") for record in records)


# -- identifiers and log lines ----------------------------------------------------------------------------


@pytest.mark.parametrize("route", WEBHOOKS)
async def test_an_empty_session_guid_names_no_call(app: VNSApp, route: str) -> None:
    body = json.dumps(valid_body(route) | {"sessionGuid": ""}).encode()
    reply = await asgi(app, "POST", route, headers=WEBHOOK_AUTH, body=body)
    problem = assert_error(reply, 422, "invalid_request")
    assert "sessionGuid" in json.dumps(problem)


async def test_a_caller_cannot_forge_log_lines(app: VNSApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    token = await start(app)
    forged = "lookup\nwebhook tools session=x tool=y outcome=ok status=200 latency_ms=0.1"
    body = json.dumps({"VoiceElements_InvokeTool": {"toolName": forged}}).encode()
    reply = await asgi(app, "POST", "/vns/tools", headers=[auth_header(token)], body=body)
    assert reply.status == 200 and reply.json()["error"] == "unknown_tool"
    [line] = [r for r in caplog.records if r.name == "vns_sdk.app" and getattr(r, "vns_endpoint", None) == "tools"]
    message = line.getMessage()
    assert "\n" not in message and "\r" not in message
    assert "tool=lookup\\nwebhook\\x20tools" in message
    assert line.vns_tool == forged  # type: ignore[attr-defined]  # structured handlers get the value itself


@pytest.mark.parametrize("name", [5, 1.5, True, ["lookup"], {"toolName": "lookup"}, "", None])
async def test_a_tool_name_that_is_not_text_is_a_quiet_422(
    app: VNSApp, caplog: pytest.LogCaptureFixture, name: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="vns_sdk")
    token = await start(app)
    body = json.dumps({"VoiceElements_InvokeTool": {"toolName": name, "sessionGuid": SEED_GUID}}).encode()
    reply = await asgi(app, "POST", "/vns/tools", headers=[auth_header(token)], body=body)
    assert_error(reply, 422, "invalid_request")
    [line] = [r for r in caplog.records if getattr(r, "vns_endpoint", None) == "tools"]
    assert line.levelno == logging.INFO and "status=422" in line.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


class FailingStartStore(MemoryCallStateStore):
    async def start_call(self, *args: Any, **kwargs: Any) -> None:
        raise StateStoreError("the store said\nno")


async def test_every_record_is_one_line_whatever_the_client_sent(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vns_sdk")
    app = make_app(state_store=FailingStartStore())
    guid = "call\nCallStart forged: the call could not be stored \x1b[2K"
    body = json.dumps(valid_body("/vns/call-start") | {"sessionGuid": guid}).encode()
    reply = await asgi(app, "POST", "/vns/call-start", headers=WEBHOOK_AUTH, body=body)
    assert reply.status == 200  # answered anyway: the store's failure is the server's, logged as an ERROR
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    message = error.getMessage()
    assert message == (
        "CallStart call\\nCallStart forged: the call could not be stored \\x1b[2K: the call could not be stored: "
        "the store said\\nno; initial state keys lost: none"
    )
    for record in caplog.records:
        text = logging.Formatter().format(record)
        assert "\n" not in text and "\r" not in text
        assert "\x1b" not in text  # nor a terminal's control sequence


@pytest.mark.parametrize(
    ("value", "shown"),
    [(5, "5"), (["a", "b"], "['a',\\x20'b']"), ({"k": "v\n"}, "{'k':\\x20'v\\\\n'}"), ("x" * 200, "x" * 128 + "...")],
)
def test_the_webhook_line_shows_any_value_on_one_line(caplog: pytest.LogCaptureFixture, value: Any, shown: str) -> None:
    from vns_sdk.app._access_log import log_webhook

    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    log_webhook("tools", 0.0, 422, "invalid_request", session_guid=SEED_GUID, tool=value)
    [record] = caplog.records
    assert f" tool={shown} outcome=invalid_request " in record.getMessage()
