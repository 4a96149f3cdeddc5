"""`vns-sdk dial`: the outbound request VNS receives (through httpx.MockTransport) and every mistake."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import Result

from vns_sdk.cli import dial as dial_command
from vns_sdk.client import VNSClient

Sent = list[httpx.Request]


@pytest.fixture
def vns_api(monkeypatch: pytest.MonkeyPatch) -> tuple[Sent, list[httpx.Response | Exception]]:
    """The VNS outbound API, mocked: requests are kept; answers are taken in order (default: success)."""
    sent: Sent = []
    answers: list[httpx.Response | Exception] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json={"status": 0, "errorMessage": "Success"})
        if isinstance(answer, Exception):
            raise answer
        return answer

    def make_client(*, api_url: str | None, api_token: str | None) -> VNSClient:
        return VNSClient(api_url=api_url, api_token=api_token, transport=httpx.MockTransport(handler), max_retries=0)

    monkeypatch.setattr(dial_command, "make_client", make_client)
    monkeypatch.setenv("VNS_API_TOKEN", "api-token-0123456789abcdef")
    return sent, answers


def test_dials_through_the_client(run: Callable[..., Result], vns_api: tuple[Sent, list[object]]) -> None:
    sent, _ = vns_api
    result = run(
        "dial", "+13032639999", "--caller-id", "7206999999", "--name", "John Smith", "--customer-call-id", "abc123"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "VNS is calling +13032639999 from 7206999999 (status 0: Success).\ncustomerCallId: abc123\n"
    )
    [request] = sent
    assert str(request.url) == "https://ivlresttest.voiceelements.com/v1/vnsoutboundcall"
    assert request.headers["Authorization"] == "Bearer api-token-0123456789abcdef"
    assert json.loads(request.content) == {
        "customerCallId": "abc123",
        "calledNumber": "+13032639999",
        "callerId": "7206999999",
        "callerIdName": "John Smith",
    }


def test_the_api_url(run: Callable[..., Result], vns_api: tuple[Sent, list[object]]) -> None:
    sent, _ = vns_api
    result = run("dial", "3032639999", "--caller-id", "7206999999", "--api-url", "https://vns.example.com/v1/dial")
    assert result.exit_code == 0, result.output
    assert str(sent[0].url) == "https://vns.example.com/v1/dial"
    assert json.loads(sent[0].content) == {"calledNumber": "3032639999", "callerId": "7206999999"}


def test_vns_refuses(run: Callable[..., Result], vns_api: tuple[Sent, list[object]]) -> None:
    _, answers = vns_api
    answers.append(httpx.Response(200, json={"status": 3, "errorMessage": "Number not allowed"}))
    result = run("dial", "3032639999", "--caller-id", "7206999999")
    assert result.exit_code == 1
    assert result.stderr == "error: VNS refused the request (status 3): Number not allowed\n"


def test_vns_unreachable(run: Callable[..., Result], vns_api: tuple[Sent, list[object]]) -> None:
    _, answers = vns_api
    answers.append(httpx.ConnectError("connection refused"))
    result = run("dial", "3032639999", "--caller-id", "7206999999")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_credentials(run: Callable[..., Result]) -> None:
    result = run("dial", "3032639999", "--caller-id", "7206999999")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "VNS_API_TOKEN" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["303-263-9999", "--caller-id", "7206999999"], "error: NUMBER must be a phone number of 7 to 15 digits"),
        (["123456", "--caller-id", "7206999999"], "error: NUMBER must be a phone number of 7 to 15 digits"),
        (["+1234567890123456", "--caller-id", "7206999999"], "error: NUMBER must be a phone number"),
        (["3032639999", "--caller-id", "DID"], "error: --caller-id must be a phone number"),
        (["3032639999", "--caller-id", "7206999999", "--context", "{nope"], "error: --context is not valid JSON"),
        (["3032639999", "--caller-id", "7206999999", "--context", "[1]"], "error: --context must be a JSON object"),
        (["3032639999", "--caller-id", "7206999999", "--context", "{}"], "error: --context needs --app"),
    ],
)
def test_mistakes(
    run: Callable[..., Result], vns_api: tuple[Sent, list[object]], args: list[str], message: str
) -> None:
    sent, _ = vns_api
    result = run("dial", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert sent == []


def test_caller_id_is_required(run: Callable[..., Result]) -> None:
    result = run("dial", "3032639999")
    assert result.exit_code == 2
    assert "--caller-id" in result.output


DIALER = """
import httpx

from vns_sdk import VNSApp, VNSClient

sent = []


def answer(request):
    sent.append(request)
    return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})


app = VNSApp(
    webhook_token="whk-test-token-0123456789abcdef",
    client=VNSClient(api_token="app-api-token-0123456789", transport=httpx.MockTransport(answer), max_retries=0),
)
"""


def test_with_an_app_the_context_is_stored_for_the_call_start(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write("dialer.py", DIALER)
    result = run(
        "dial",
        "3032639999",
        "--caller-id",
        "7206999999",
        "--customer-call-id",
        "reminder-7",
        "--context",
        '{"order": 42, "items": ["tea"]}',
        "--app",
        "dialer.py",
    )
    assert result.exit_code == 0, result.output
    assert "customerCallId: reminder-7" in result.stdout
    # A memory store keeps the context in this process only: the user is told.
    assert "warning: the app keeps call state in memory" in result.stderr
    module = sys.modules["dialer"]
    [request] = module.sent
    assert json.loads(request.content)["customerCallId"] == "reminder-7"
    stored = asyncio.run(module.app.store.pop_dial_context("reminder-7"))
    assert {key: json.loads(value) for key, value in stored.items()} == {"order": 42, "items": ["tea"]}


def test_with_an_app_a_customer_call_id_is_made_and_shown(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write("dialer.py", DIALER)
    result = run("dial", "3032639999", "--caller-id", "7206999999", "--app", "dialer.py")
    assert result.exit_code == 0, result.output
    [request] = sys.modules["dialer"].sent
    ccid = json.loads(request.content)["customerCallId"]
    assert f"customerCallId: {ccid}\n" in result.stdout
    assert "warning" not in result.stderr


def test_the_project_app_takes_the_context(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    write("dialer.py", DIALER)
    write("pyproject.toml", '[tool.vns-sdk]\napp = "dialer:app"\n')
    result = run("dial", "3032639999", "--caller-id", "7206999999", "--context", '{"a": 1}')
    assert result.exit_code == 0, result.output
    assert len(sys.modules["dialer"].sent) == 1


def test_an_app_and_an_api_url_conflict(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    write("dialer.py", DIALER)
    result = run("dial", "3032639999", "--caller-id", "7206999999", "--app", "dialer.py", "--api-url", "https://x")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --api-url cannot be combined with an app")
    assert "dialer" not in sys.modules


def test_an_app_without_a_webhook_token_can_dial(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    # Dialing does not serve the app, so it needs no webhook token (only the API token).
    source = DIALER.replace('    webhook_token="whk-test-token-0123456789abcdef",\n', "")
    assert "webhook_token" not in source
    write("dialer.py", source)
    result = run("dial", "3032639999", "--caller-id", "7206999999", "--app", "dialer.py")
    assert result.exit_code == 0, result.output
    assert len(sys.modules["dialer"].sent) == 1
