"""VNSClient and AsyncVNSClient against httpx.MockTransport: every test runs on both clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vns_sdk import AsyncVNSClient, VNSClient, __version__
from vns_sdk.client import DEFAULT_API_URL
from vns_sdk.exceptions import ConfigurationError, VNSConnectionError, VNSStatusError, VNSTimeoutError
from vns_sdk.models import OutboundCallRequest, OutboundCallResponse

TOKEN = "tok-3f9a-SECRET"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(params=["sync", "async"])
def dial(request: pytest.FixtureRequest) -> Callable[..., OutboundCallResponse]:
    """``dial(handler, *args, **client_options)``: one dial through the client under test."""

    def run(handler: Handler, *args: Any, **options: Any) -> OutboundCallResponse:
        options.setdefault("api_token", TOKEN)
        args = args or ("3032639999", "7206999999", "John Smith", "abc123")
        if request.param == "sync":
            with VNSClient(transport=httpx.MockTransport(handler), **options) as client:
                return client.dial(*args)

        async def run_async() -> OutboundCallResponse:
            async with AsyncVNSClient(transport=httpx.MockTransport(handler), **options) as client:
                return await client.dial(*args)

        return asyncio.run(run_async())

    return run


def answer(body: Any = None, status_code: int = 200, **kwargs: Any) -> Handler:
    """A VNS that records each request it gets and gives one answer."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if body is None:
            return httpx.Response(status_code, **kwargs)
        return httpx.Response(status_code, json=body, **kwargs)

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def failing(*errors: type[httpx.TransportError], then: Handler | None = None) -> Handler:
    """A transport that raises each error in turn, then answers with ``then``; it counts attempts."""
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]("simulated failure", request=request)
        assert then is not None
        return then(request)

    handler.attempts = attempts  # type: ignore[attr-defined]
    return handler


SUCCESS = {"status": 0, "errorMessage": "Success"}


def test_dial_posts_the_spec_request_and_returns_the_typed_answer(dial: Callable[..., Any]) -> None:
    vns = answer(SUCCESS)
    result = dial(vns)
    assert isinstance(result, OutboundCallResponse)
    assert result.ok and result.status == 0 and result.error_message == "Success"

    (request,) = vns.seen  # type: ignore[attr-defined]
    assert request.method == "POST"
    assert str(request.url) == DEFAULT_API_URL
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"vns-sdk/{__version__}"
    assert json.loads(request.content) == {
        "customerCallId": "abc123",
        "calledNumber": "3032639999",
        "callerId": "7206999999",
        "callerIdName": "John Smith",
    }


def test_unset_optional_fields_are_not_sent(dial: Callable[..., Any]) -> None:
    vns = answer(SUCCESS)
    dial(vns, "3032639999", "7206999999")
    (request,) = vns.seen  # type: ignore[attr-defined]
    assert json.loads(request.content) == {"calledNumber": "3032639999", "callerId": "7206999999"}


def test_fields_vns_adds_later_are_kept(dial: Callable[..., Any]) -> None:
    result = dial(answer({**SUCCESS, "sessionGuid": "9e6a"}))
    assert result.model_dump()["sessionGuid"] == "9e6a"


def test_a_non_zero_status_raises_with_the_vns_error_message(dial: Callable[..., Any]) -> None:
    with pytest.raises(VNSStatusError) as caught:
        dial(answer({"status": 3, "errorMessage": "Caller ID not allowed"}))
    assert caught.value.status == 3
    assert caught.value.error_message == "Caller ID not allowed"
    assert caught.value.http_status == 200
    assert "Caller ID not allowed" in str(caught.value)


def test_an_http_error_with_a_vns_body_keeps_its_status(dial: Callable[..., Any]) -> None:
    with pytest.raises(VNSStatusError) as caught:
        dial(answer({"status": 7, "errorMessage": "Account not production-enabled"}, status_code=403))
    assert (caught.value.status, caught.value.http_status) == (7, 403)
    assert caught.value.error_message == "HTTP 403 Forbidden: Account not production-enabled"


@pytest.mark.parametrize(
    ("status_code", "content", "expected"),
    [
        (401, b"Bearer token required", "HTTP 401 Unauthorized: Bearer token required"),
        (503, b"", "HTTP 503 Service Unavailable"),
        (500, b"<html>\n  <h1>Oops</h1>\n</html>", "HTTP 500 Internal Server Error: <html> <h1>Oops</h1> </html>"),
    ],
)
def test_an_http_error_without_a_vns_body_uses_the_http_status(
    dial: Callable[..., Any], status_code: int, content: bytes, expected: str
) -> None:
    with pytest.raises(VNSStatusError) as caught:
        dial(answer(status_code=status_code, content=content))
    assert (caught.value.status, caught.value.http_status) == (status_code, status_code)
    assert caught.value.error_message == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<html>maintenance</html>", "not a JSON object"),
        (b"", "not a JSON object"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"errorMessage": "no status here"}', "unexpected JSON body (problem with: status)"),
        (b'{"status": "zero"}', "unexpected JSON body (problem with: status)"),
    ],
)
def test_an_unexpected_success_body_is_a_clear_error(dial: Callable[..., Any], content: bytes, expected: str) -> None:
    with pytest.raises(VNSStatusError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        dial(answer(status_code=200, content=content))


def test_a_read_timeout_is_not_retried(dial: Callable[..., Any]) -> None:
    vns = failing(httpx.ReadTimeout, then=answer(SUCCESS))
    with pytest.raises(VNSTimeoutError, match="may or may not have been placed"):
        dial(vns)
    assert len(vns.attempts) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("error", [httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
def test_a_failure_after_the_request_may_have_left_is_not_retried(
    dial: Callable[..., Any], error: type[httpx.TransportError]
) -> None:
    vns = failing(error, then=answer(SUCCESS))
    with pytest.raises(VNSConnectionError) as caught:
        dial(vns)
    assert not isinstance(caught.value, VNSTimeoutError)
    assert error.__name__ in str(caught.value)
    assert len(vns.attempts) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout])
def test_a_failed_connection_is_retried_and_then_succeeds(
    dial: Callable[..., Any], error: type[httpx.TransportError]
) -> None:
    vns = failing(error, error, then=answer(SUCCESS))
    assert dial(vns).ok
    assert len(vns.attempts) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("error", "raised"), [(httpx.ConnectError, VNSConnectionError), (httpx.ConnectTimeout, VNSTimeoutError)]
)
def test_retries_stop_after_max_retries(
    dial: Callable[..., Any], error: type[httpx.TransportError], raised: type[Exception]
) -> None:
    vns = failing(*[error] * 10, then=answer(SUCCESS))
    with pytest.raises(raised):
        dial(vns, max_retries=1)
    assert len(vns.attempts) == 2  # type: ignore[attr-defined]

    vns = failing(error, then=answer(SUCCESS))
    with pytest.raises(raised):
        dial(vns, max_retries=0)
    assert len(vns.attempts) == 1  # type: ignore[attr-defined]


def test_the_timeout_reaches_the_transport(dial: Callable[..., Any]) -> None:
    vns = answer(SUCCESS)
    dial(vns, timeout=3.5)
    dial(vns, timeout=httpx.Timeout(5.0, connect=1.0))
    first, second = vns.seen  # type: ignore[attr-defined]
    assert first.extensions["timeout"] == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}
    assert second.extensions["timeout"] == {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0}


def test_settings_come_from_the_environment(dial: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_API_URL", "https://vns.example.test/v1/vnsoutboundcall")
    monkeypatch.setenv("VNS_API_TOKEN", "from-env")
    vns = answer(SUCCESS)
    dial(vns, api_token=None)
    dial(vns, api_url="https://other.example.test/dial", api_token="explicit")
    from_env, explicit = vns.seen  # type: ignore[attr-defined]
    assert str(from_env.url) == "https://vns.example.test/v1/vnsoutboundcall"
    assert from_env.headers["Authorization"] == "Bearer from-env"
    assert str(explicit.url) == "https://other.example.test/dial"
    assert explicit.headers["Authorization"] == "Bearer explicit"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_send_places_a_call_described_by_an_outbound_call_request(kind: str) -> None:
    vns = answer(SUCCESS)
    call = OutboundCallRequest(called_number="3032639999", caller_id="7206999999", customer_call_id="abc123")
    transport = httpx.MockTransport(vns)
    if kind == "sync":
        with VNSClient(api_token=TOKEN, transport=transport) as client:
            result = client.send(call)
    else:

        async def send() -> OutboundCallResponse:
            async with AsyncVNSClient(api_token=TOKEN, transport=transport) as client:
                return await client.send(call)

        result = asyncio.run(send())
    assert result.ok
    (request,) = vns.seen  # type: ignore[attr-defined]
    assert json.loads(request.content) == {
        "customerCallId": "abc123",
        "calledNumber": "3032639999",
        "callerId": "7206999999",
    }


def test_send_checks_the_request_before_anything_is_sent() -> None:
    vns = answer(SUCCESS)
    with VNSClient(api_token=TOKEN, transport=httpx.MockTransport(vns)) as client, pytest.raises(ValueError):
        client.send(OutboundCallRequest(called_number="3032639999", caller_id=""))
    assert vns.seen == []  # type: ignore[attr-defined]


def test_an_invalid_setting_in_the_environment_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_API_TOKEN", "from-env")
    monkeypatch.setenv("VNS_MAX_SECONDS", "secret-looking-value")
    with pytest.raises(ConfigurationError, match="invalid setting in the environment: max_seconds") as caught:
        VNSClient()
    assert "secret-looking-value" not in str(caught.value)
    # Given both settings, the client reads nothing from the environment.
    VNSClient(api_url=DEFAULT_API_URL, api_token=TOKEN).close()


@pytest.mark.parametrize("client_class", [VNSClient, AsyncVNSClient])
def test_a_missing_token_fails_at_construction(client_class: type[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="VNS_API_TOKEN"):
        client_class()
    with pytest.raises(ConfigurationError, match="VNS_API_TOKEN"):
        client_class(api_token="   ")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"api_url": "ftp://vns.example.test/dial"}, "http"),
        ({"api_url": "not a url"}, "http"),
        ({"api_token": "two words"}, "whitespace"),
        ({"api_token": "line\nbreak"}, "whitespace"),
    ],
)
def test_bad_settings_fail_at_construction(options: dict[str, Any], match: str) -> None:
    options.setdefault("api_token", TOKEN)
    with pytest.raises(ConfigurationError, match=match) as caught:
        VNSClient(**options)
    assert "line\nbreak" not in str(caught.value) and "two words" not in str(caught.value)


def test_the_token_never_shows_in_errors_or_repr(dial: Callable[..., Any]) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"bad credentials: {request.headers['Authorization']}")

    with pytest.raises(VNSStatusError) as status_error:
        dial(echo)

    def leaky_failure(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"reset while sending {request.headers['Authorization']}", request=request)

    with pytest.raises(VNSConnectionError) as connection_error:
        dial(leaky_failure)

    for text in (str(status_error.value), str(connection_error.value)):
        assert TOKEN not in text
        assert "***" in text
    client = VNSClient(api_url="https://user:pw@vns.example.test:8443/dial?key=abc", api_token=TOKEN)
    assert repr(client) == "VNSClient(api_url='https://vns.example.test:8443/dial')"
    client.close()


def test_arguments_are_checked_before_anything_is_sent(dial: Callable[..., Any]) -> None:
    vns = answer(SUCCESS)
    with pytest.raises(ValueError, match="called_number"):
        dial(vns, "", "7206999999")
    assert vns.seen == []  # type: ignore[attr-defined]


def test_a_closed_sync_client_cannot_dial() -> None:
    client = VNSClient(api_token=TOKEN, transport=httpx.MockTransport(answer(SUCCESS)))
    client.close()
    with pytest.raises(RuntimeError):
        client.dial("3032639999", "7206999999")


async def test_a_closed_async_client_cannot_dial() -> None:
    client = AsyncVNSClient(api_token=TOKEN, transport=httpx.MockTransport(answer(SUCCESS)))
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.dial("3032639999", "7206999999")


async def test_async_dials_run_concurrently_on_one_client() -> None:
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_vns(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["customerCallId"])
        if len(seen) == 3:
            release.set()
        await release.wait()  # answers only once all three requests are in flight
        return httpx.Response(200, json=SUCCESS)

    async with AsyncVNSClient(api_token=TOKEN, transport=httpx.MockTransport(slow_vns)) as client:
        results = await asyncio.gather(*(client.dial("303", "720", customer_call_id=f"c{i}") for i in range(3)))
    assert all(result.ok for result in results)
    assert sorted(seen) == ["c0", "c1", "c2"]


def test_the_client_says_how_it_is_configured() -> None:
    with VNSClient(api_token=TOKEN, timeout=2.5, max_retries=4) as client:
        assert client.api_url == DEFAULT_API_URL
        assert client.timeout == httpx.Timeout(2.5)
        assert client.max_retries == 4
    with pytest.raises(ValueError, match="max_retries"):
        VNSClient(api_token=TOKEN, max_retries=-1)


def test_an_http_error_with_a_json_body_that_is_not_an_object(dial: Callable[..., Any]) -> None:
    with pytest.raises(VNSStatusError) as caught:
        dial(answer(["unexpected"], status_code=502))
    assert (caught.value.status, caught.value.error_message) == (502, 'HTTP 502 Bad Gateway: ["unexpected"]')
