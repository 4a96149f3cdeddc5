"""Property-based attacks on the three webhook routes: arbitrary JSON, bytes, headers, paths and tokens.

Each property drives the real `VNSApp` through raw ASGI and checks what must hold for any input: no 500,
a JSON object for an answer, a designed status code, no secret in it (CallStart's own answer aside), and
no answer at all without the right credential. The log path is checked too, with every ``vns_sdk`` logger
at DEBUG: a client's mistake leaves no ERROR record and no traceback, and every record formats as one line
of text a UTF-8 log file can hold. Examples are derandomized, so every run tries the same ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.conftest import OPENAI_KEY, SEED_GUID, WEBHOOK_TOKEN, spec
from tests.app.test_adversarial import (
    BASIC_PASSWORD,
    OLD_TOKEN,
    REDIS_URL,
    SECRETS,
    TOOL_SECRET,
    Reply,
    asgi,
    assert_no_secret,
    auth_header,
)
from vns_sdk.app import VNSApp, VNSSettings
from vns_sdk.models import CallEndRequest, CallStartRequest

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    # The event-loop fixture is meant to serve every example of a property.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
WEBHOOK_STATUSES = {200, 400, 401, 403, 404, 405, 413, 422}
TOOL_STATUSES = {200, 400, 401, 404, 405, 410, 413, 422}


def build_app() -> VNSApp:
    blank = VNSSettings.model_construct(
        **{name: field.get_default(call_default_factory=True) for name, field in VNSSettings.model_fields.items()}
    )
    app = VNSApp(
        webhook_token=[WEBHOOK_TOKEN, OLD_TOKEN],
        webhook_basic_auth=f"vns:{BASIC_PASSWORD}",
        tool_token_secret=TOOL_SECRET,
        redis_url=REDIS_URL,
        openai_api_key=OPENAI_KEY,
        end_conversation=True,
        settings=blank.model_copy(update={"api_token": SECRETS["API token"]}),
        state_store=_memory(),
    )

    @app.tool
    async def lookup(name: str | None = None, count: int = 1, tags: list[str] | None = None) -> dict[str, Any]:
        """Looks a name up.

        Args:
            name: The name.
            count: How many.
            tags: Labels.
        """
        return {"name": name, "count": count, "tags": tags}

    @app.tool
    async def fails(reason: str = "") -> None:
        """Always fails."""
        raise RuntimeError(f"backend said {reason} with {OPENAI_KEY}")

    return app


def _memory() -> Any:
    from vns_sdk.state import MemoryCallStateStore

    return MemoryCallStateStore()


Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def run() -> Iterator[Runner]:
    """Runs coroutines on one event loop for the whole property (hypothesis calls the test synchronously)."""
    loop = asyncio.new_event_loop()
    try:
        yield loop.run_until_complete
    finally:
        loop.close()


class LogCheck(logging.Handler):
    """Formats every record of the ``vns_sdk`` loggers as a production handler would, and judges it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self.problems: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        try:
            self.judge(record, self.format(record))
        except Exception:
            self.handleError(record)

    def judge(self, record: logging.LogRecord, line: str) -> None:
        if record.name == "vns_sdk.tools" and line.endswith(f"Tool 'fails' failed (call {SEED_GUID})"):
            return  # the app's own tool failing: its traceback is for the app's developer, not a client's mistake
        if record.levelno >= logging.ERROR:
            self.problems.append(f"an {record.levelname} record: {line}")
        if record.exc_info or record.exc_text or "Traceback" in line:
            self.problems.append(f"a traceback: {line}")
        if "\n" in line or "\r" in line:
            self.problems.append(f"a record of several lines: {line!r}")
        line.encode("utf-8")  # a lone surrogate would fail a UTF-8 log file

    def handleError(self, record: logging.LogRecord) -> None:
        self.problems.append(f"a record that cannot be written: {record.msg!r} {record.args!r}")

    def check(self) -> None:
        """Fail on what the last request logged; start afresh for the next one."""
        problems, self.problems = self.problems, []
        assert not problems, "\n".join(problems)


@pytest.fixture
def logs() -> Iterator[LogCheck]:
    """Every ``vns_sdk`` record, at every level, checked as it is emitted."""
    handler = LogCheck()
    package = logging.getLogger("vns_sdk")
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        package.removeHandler(handler)
        package.setLevel(level)


@pytest.fixture
def app(logs: LogCheck) -> VNSApp:
    """One app serves every example of a property (building one per example would dominate the run)."""
    return build_app()


@pytest.fixture
def token(app: VNSApp, run: Runner) -> str:
    """The tool token of a call started on ``app``."""
    value: str = run(_start(app))
    return value


def check_answer(
    reply: Reply, allowed: set[int], *, extra_secrets: tuple[str, ...] = (), sent: bytes = b""
) -> dict[str, Any]:
    """Check an answer; a secret the client itself ``sent`` may come back to it (a tool echoing an argument)."""
    assert reply.status in allowed, (reply.status, reply.text[:300])
    assert reply.headers[b"content-type"] == b"application/json"
    body = json.loads(reply.body)
    assert isinstance(body, dict)
    text = reply.text
    if reply.status == 200 and "VoiceElements_Instructions" in body:
        # CallStart's answer carries the OpenAI key and the call's tool token, where VNS reads them and nowhere else.
        instructions = body["VoiceElements_Instructions"]
        assert instructions["aiUrl"]["headers"] == {"Authorization": f"Bearer {OPENAI_KEY}"}
        assert set(instructions["defaultToolsUrlBase"]["headers"]) == {"Authorization"}
        instructions["aiUrl"]["headers"] = instructions["defaultToolsUrlBase"]["headers"] = {}
        text = json.dumps(body, ensure_ascii=False)
    else:
        assert "Traceback" not in text and "errors.pydantic.dev" not in text
    for secret in SECRETS.values():
        if json.dumps(secret).encode()[1:-1] in sent:
            text = text.replace(secret, "")
    assert_no_secret(text, extra_secrets)
    return body


# -- strategies -------------------------------------------------------------------------------------------

# Text with lone surrogates and control characters among the rest.
lone_surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
# (st.text leaves surrogates out whatever its alphabet, so the characters are joined by hand.)
any_text = st.lists(st.characters(codec=None) | lone_surrogates, max_size=30).map("".join)
secret_text = st.sampled_from([*SECRETS.values(), WEBHOOK_TOKEN, "Bearer " + WEBHOOK_TOKEN])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
    | secret_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text | secret_text, children, max_size=4),
    max_leaves=12,
)
START_FIELDS = [field.alias or name for name, field in CallStartRequest.model_fields.items()]
END_FIELDS = [field.alias or name for name, field in CallEndRequest.model_fields.items()]


def encode(value: Any) -> bytes:
    """JSON text of ``value``; lone surrogates go out as escapes, as a hostile client can send them."""
    return json.dumps(value, ensure_ascii=True).encode()


@st.composite
def webhook_bodies(draw: st.DrawFn, fields: list[str], base: dict[str, Any]) -> bytes:
    body = dict(base) if draw(st.booleans()) else {}
    # The identifiers the app builds its answer, its token and its store keys from: text more often than not.
    for field in ("sessionGuid", "customerCallId"):
        if draw(st.booleans()):
            body[field] = draw(any_text | json_values)
    for field in draw(st.lists(st.sampled_from(fields), max_size=3)):
        body[field] = draw(json_values)
    body.update(draw(st.dictionaries(any_text, json_values, max_size=2)))
    if draw(st.integers(0, 9)) == 0:
        return encode(draw(json_values))  # not an object, at times
    return encode(body)


# -- CallStart and CallEnd ------------------------------------------------------------------------------


@FUZZ
@given(body=webhook_bodies(START_FIELDS, spec("call_start_request")))
def test_call_start_with_any_json(run: Runner, app: VNSApp, logs: LogCheck, body: bytes) -> None:
    reply = run(asgi(app, "POST", "/vns/call-start", headers=[auth_header(WEBHOOK_TOKEN)], body=body))
    logs.check()
    answer = check_answer(reply, {200, 400, 422}, sent=body)
    if reply.status == 422:
        assert answer["error"] == "invalid_request" and answer["problems"]


@FUZZ
@given(body=webhook_bodies(END_FIELDS, spec("call_end_request")))
def test_call_end_with_any_json(run: Runner, app: VNSApp, logs: LogCheck, body: bytes) -> None:
    reply = run(asgi(app, "POST", "/vns/call-end", headers=[auth_header(WEBHOOK_TOKEN)], body=body))
    logs.check()
    answer = check_answer(reply, {200, 400, 422}, sent=body)
    if reply.status == 200:
        assert answer == {"status": 0, "errorMessage": "Success"}


@FUZZ
@given(
    route=st.sampled_from(["/vns/call-start", "/vns/call-end", "/vns/tools", "/vns/tools/lookup"]),
    body=st.binary(max_size=300) | st.builds(lambda v, junk: encode(v)[: len(junk) + 1], json_values, st.binary()),
)
def test_any_bytes_on_every_route(
    run: Runner, app: VNSApp, logs: LogCheck, token: str, route: str, body: bytes
) -> None:
    auth = auth_header(token) if "/tools" in route else auth_header(WEBHOOK_TOKEN)
    reply = run(asgi(app, "POST", route, headers=[auth], body=body))
    logs.check()
    check_answer(reply, {200, 400, 422}, extra_secrets=(token,), sent=body)


async def _start(app: VNSApp, guid: str = SEED_GUID) -> str:
    body = encode(spec("call_start_request") | {"sessionGuid": guid})
    reply = await asgi(app, "POST", "/vns/call-start", headers=[auth_header(WEBHOOK_TOKEN)], body=body)
    assert reply.status == 200, reply.text
    value: str = json.loads(reply.body)["VoiceElements_Instructions"]["defaultToolsUrlBase"]["headers"]["Authorization"]
    return value.removeprefix("Bearer ")


# -- headers, methods, paths ------------------------------------------------------------------------------

header_names = st.sampled_from(
    [b"authorization", b"content-length", b"content-type", b"host", b"x-forwarded-host", b"forwarded", b"cookie"]
) | st.binary(min_size=1, max_size=12)
header_values = (
    st.binary(max_size=60)
    | st.sampled_from([b"Bearer ", b"Basic ", b"bearer", b"0", b"-1", b"99999999999999999999"])
    | st.builds(lambda s: s.encode(), secret_text)
)


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "HEAD", "OPTIONS", "PUT", "DELETE"]) | st.text(min_size=1, max_size=8),
    route=st.sampled_from(["/vns/call-start", "/vns/call-end", "/vns/tools", "/vns/health", "/vns/x"]),
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
)
def test_any_headers_never_fail_open(
    run: Runner, app: VNSApp, logs: LogCheck, method: str, route: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = encode(spec("call_end_request") if route.endswith("end") else spec("call_start_request"))
    reply = run(asgi(app, method, route, headers=headers, body=body))
    logs.check()
    if route.endswith("health") and method == "HEAD":
        assert reply.status == 200 and reply.body == b""
        return
    answer = check_answer(reply, WEBHOOK_STATUSES | {410})
    if reply.status == 200 and route != "/vns/health":
        # Only the configured credentials open a webhook; no header set generated here carries one.
        assert route != "/vns/tools", answer
        credentials = {value.strip() for name, value in headers if name.lower() == b"authorization"}
        assert credentials & {f"Bearer {WEBHOOK_TOKEN}".encode(), f"Bearer {OLD_TOKEN}".encode()}, headers


# -- tool calls -----------------------------------------------------------------------------------------

segments = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["lookup", "fails", "end_conversation", SEED_GUID, "", "%2F", "%00", "..", "CallId-001"]
)


@FUZZ
@given(
    path=st.lists(segments, max_size=5),
    query=st.lists(
        st.tuples(st.sampled_from(["toolname", "sessionguid", "customerCallId", "x"]) | segments, segments),
        max_size=3,
    ),
    body=json_values,
    wrapped=st.booleans(),
)
def test_tool_calls_with_any_path_query_and_arguments(
    run: Runner,
    app: VNSApp,
    logs: LogCheck,
    token: str,
    path: list[str],
    query: list[tuple[str, str]],
    body: Any,
    wrapped: bool,
) -> None:
    from urllib.parse import quote, urlencode

    if wrapped and isinstance(body, dict):
        body = {"VoiceElements_InvokeTool": {"toolName": "lookup", "sessionGuid": SEED_GUID}} | body
    raw = "/vns/tools" + "".join("/" + quote(segment, safe="%") for segment in path)
    decoded = "/vns/tools" + "".join("/" + segment for segment in path)
    reply = run(
        asgi(
            app,
            "POST",
            decoded,
            raw_path=raw.encode(),
            query=urlencode(query).encode(),
            headers=[auth_header(token)],
            body=encode(body),
        )
    )
    logs.check()
    answer = check_answer(reply, TOOL_STATUSES, extra_secrets=(token,), sent=encode(body))
    if reply.status == 200 and "error" in answer and answer["error"] not in ("unknown_tool", "invalid_arguments"):
        assert answer["error"] == "error" and "backend said" not in answer["message"]


@FUZZ
@given(index=st.integers(min_value=0), replacement=st.characters(codec="ascii"), cut=st.booleans())
def test_a_tool_token_changed_anywhere_is_refused(
    run: Runner, app: VNSApp, logs: LogCheck, token: str, index: int, replacement: str, cut: bool
) -> None:
    position = index % len(token)
    forged = token[:position] if cut else token[:position] + replacement + token[position + 1 :]
    if forged == token:
        return
    body = encode({"VoiceElements_InvokeTool": {"toolName": "lookup"}, "name": "Ron"})
    reply = run(asgi(app, "POST", "/vns/tools", headers=[(b"authorization", b"Bearer " + forged.encode())], body=body))
    logs.check()
    assert reply.status == 401, (token, forged, reply.text)
    check_answer(reply, {401}, extra_secrets=(token,))


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "PUT"]) | st.text(min_size=1, max_size=8),
    # Text as a server decodes it from the request line (no lone surrogates: they cannot come through UTF-8).
    path=st.lists(
        st.text(st.characters(codec="utf-8"), max_size=12)
        | st.sampled_from(["vns", "tools", "call-start", "call-end", "health", "lookup", SEED_GUID]),
        max_size=5,
    ),
    query=st.binary(max_size=40),
    headers=st.lists(st.tuples(header_names, header_values), max_size=4),
    body=st.binary(max_size=100) | st.builds(encode, json_values),
)
def test_any_request_logs_quietly(
    run: Runner,
    app: VNSApp,
    logs: LogCheck,
    token: str,
    method: str,
    path: list[str],
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    """Any method, path, query, headers and body, with a valid tool token or none: quiet logs, a JSON answer."""
    decoded = "/" + "/".join(path)
    for credentials in ([], [auth_header(token)], [auth_header(WEBHOOK_TOKEN)]):
        reply = run(asgi(app, method, decoded, query=query, headers=[*credentials, *headers], body=body))
        logs.check()
        if reply.status != 200 or reply.body:  # HEAD on the health route answers nothing
            check_answer(reply, WEBHOOK_STATUSES | {410}, extra_secrets=(token,), sent=body)
