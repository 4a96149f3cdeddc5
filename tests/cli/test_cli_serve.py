"""`vns-sdk serve`: options, refusals and what it prints (the server itself is patched: nothing is served).

The real server, started as a process, is tested in ``test_cli_serve_process.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from vns_sdk import _server
from vns_sdk._server import ServerOptions


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ServerOptions, Any]]:
    """What `vns_sdk._server.run` was called with: the options and the app."""
    calls: list[tuple[ServerOptions, Any]] = []

    def run(options: ServerOptions, app: Any = None) -> int:
        calls.append((options, app))
        return 0

    monkeypatch.setattr(_server, "run", run)
    return calls


def test_the_defaults(run: Callable[..., Result], lookup_app: Path, started: list[tuple[ServerOptions, Any]]) -> None:
    result = run("serve", "agent/app.py")
    assert result.exit_code == 0, result.output
    [(options, app)] = started
    assert options == ServerOptions(app="app:app", app_dir=lookup_app.parent)
    assert (options.host, options.port, options.workers, options.graceful_timeout) == ("127.0.0.1", 8000, 1, 30)
    assert options.forwarded_allow_ips == "127.0.0.1,::1" and not options.access_log
    assert type(app).__name__ == "VNSApp"
    assert (
        "vns-sdk serve: app:app on http://127.0.0.1:8000, 1 process, httptools HTTP parser, uvloop event loop"
        in result.stderr
    )
    assert "VNS_PUBLIC_URL is not set" in result.stderr
    assert result.stdout == ""


def test_every_option(
    run: Callable[..., Result],
    lookup_app: Path,
    started: list[tuple[ServerOptions, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("VNS_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("VNS_PUBLIC_URL", "https://agent.example.com")
    (tmp_path / "logging.json").write_text('{"version": 1}', encoding="utf-8")
    result = run(
        "serve", "agent", "--host", "::", "--port", "9000", "--workers", "3", "--forwarded-allow-ips", "10.0.0.0/8",
        "--graceful-timeout", "5", "--keep-alive", "75", "--http", "h11", "--loop", "asyncio", "--log-level", "warning",
        "--access-log", "--log-config", "logging.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert started[0][0] == ServerOptions(
        app="app:app",
        app_dir=lookup_app.parent,
        host="::",
        port=9000,
        workers=3,
        forwarded_allow_ips="10.0.0.0/8",
        graceful_timeout=5,
        keep_alive=75,
        http="h11",
        loop="asyncio",
        log_level="warning",
        access_log=True,
        log_config="logging.json",
    )
    assert "on http://[::]:9000, 3 workers, h11 HTTP parser, asyncio event loop" in result.stderr
    assert "VNS_PUBLIC_URL" not in result.stderr


def test_a_unix_socket_or_an_inherited_one(
    run: Callable[..., Result], lookup_app: Path, started: list[tuple[ServerOptions, Any]]
) -> None:
    assert run("serve", "agent/app.py", "--uds", "/tmp/agent.sock").exit_code == 0
    assert run("serve", "agent/app.py", "--fd", "3").exit_code == 0
    assert (started[0][0].uds, started[0][0].fd) == ("/tmp/agent.sock", None)
    assert (started[1][0].uds, started[1][0].fd) == (None, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--uds", "a.sock", "--fd", "3"], "error: --uds and --fd are two ways to listen: pass one"),
        (["--uds", "a.sock", "--port", "9000"], "error: --uds replaces --host and --port: pass one or the other"),
        (["--fd", "3", "--host", "0.0.0.0"], "error: --fd replaces --host and --port: pass one or the other"),
    ],
)
def test_two_ways_to_listen_at_once_are_refused(
    run: Callable[..., Result], lookup_app: Path, started: list[Any], args: list[str], message: str
) -> None:
    result = run("serve", "agent/app.py", *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert started == []


BAD_VALUES = [["--workers", "0"], ["--port", "70000"], ["--http", "fast"], ["--loop", "trio"], ["--keep-alive", "x"]]


@pytest.mark.parametrize("args", BAD_VALUES)
def test_bad_values_are_usage_errors(
    run: Callable[..., Result], lookup_app: Path, started: list[Any], args: list[str]
) -> None:
    result = run("serve", "agent/app.py", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert started == []


@pytest.mark.parametrize(
    ("value", "passed"),
    [("*", "*"), ("10.0.0.2, 10.1.0.0/16,::1", "10.0.0.2,10.1.0.0/16,::1"), ("", "")],
)
def test_trusted_proxies(
    run: Callable[..., Result], lookup_app: Path, started: list[tuple[ServerOptions, Any]], value: str, passed: str
) -> None:
    assert run("serve", "agent/app.py", "--forwarded-allow-ips", value).exit_code == 0
    assert started[0][0].forwarded_allow_ips == passed


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.1/8", "*,10.0.0.2", "300.1.1.1"])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(
    run: Callable[..., Result], lookup_app: Path, started: list[Any], value: str
) -> None:
    # uvicorn would take it for a name no client has, and quietly trust nobody.
    result = run("serve", "agent/app.py", "--forwarded-allow-ips", value)
    assert result.exit_code == 2
    assert (
        result.stderr.startswith("error: --forwarded-allow-ips: ")
        and "is not an IP address or network" in result.stderr
    )
    assert started == []


def test_an_app_that_is_not_there_is_one_line(run: Callable[..., Result], started: list[Any]) -> None:
    result = run("serve", "nowhere/app.py")
    assert result.exit_code == 1
    assert result.stderr == "error: nowhere/app.py: no such file\n"
    assert started == []


def test_several_workers_need_shared_call_state(
    run: Callable[..., Result], lookup_app: Path, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("serve", "agent/app.py", "--workers", "2")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --workers 2 needs call state shared between the workers")
    assert "set VNS_REDIS_URL" in result.stderr and result.stderr.count("\n") == 1
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert run("serve", "agent/app.py").exit_code == 1  # WEB_CONCURRENCY counts as --workers
    assert started == []


def test_insecure_development_mode_is_not_served(
    run: Callable[..., Result], write: Callable[[str, str], Path], started: list[Any]
) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp(insecure_dev=True)\n")
    result = run("serve", "app.py")
    assert result.exit_code == 1
    message = result.stderr.splitlines()[-1]
    assert message.startswith("error: the app is in insecure development mode (VNS_INSECURE_DEV, or insecure_dev=")
    assert started == []


def test_settings_come_from_the_env_file(
    run: Callable[..., Result], write: Callable[[str, str], Path], started: list[tuple[ServerOptions, Any]]
) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    write(".env", "VNS_WEBHOOK_TOKEN=from-the-env-file-0123456789\nVNS_PUBLIC_URL=https://agent.example.com\n")
    result = run("serve", "app.py")
    assert result.exit_code == 0, result.output
    app = started[0][1]
    assert app.settings.webhook_token[0].get_secret_value() == "from-the-env-file-0123456789"
    assert "VNS_PUBLIC_URL" not in result.stderr


def test_a_server_that_could_not_start_exits_non_zero(
    run: Callable[..., Result], lookup_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_server, "run", lambda options, app=None: _server.STARTUP_FAILURE)
    assert run("serve", "agent/app.py").exit_code == 3


def test_without_the_server_extra_it_says_how_to_go_faster(
    run: Callable[..., Result], lookup_app: Path, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_server, "http_parser", lambda choice: "h11")
    monkeypatch.setattr(_server, "event_loop", lambda choice: "asyncio")
    result = run("serve", "agent/app.py")
    assert result.exit_code == 0, result.output
    assert "note: httptools and uvloop not installed; for speed: pip install 'vns-sdk[server]'" in result.stderr
