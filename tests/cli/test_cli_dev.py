"""`vns-sdk dev`: what it prints for VNS support, and how it starts uvicorn (patched: nothing is served)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Calls = list[tuple[tuple[object, ...], dict[str, object]]]
REPO = Path(__file__).resolve().parents[2]


def test_serves_a_file_with_reload_and_prints_what_vns_needs(
    run: Callable[..., Result], lookup_app: Path, served: Calls, token: str
) -> None:
    result = run("dev", "agent/app.py")
    assert result.exit_code == 0, result.output
    assert served[0][1].pop("log_config") is not None  # see test_the_apps_own_log_lines_show
    assert served == [
        (
            ("app:app",),
            {
                "host": "127.0.0.1",
                "port": 8000,
                "reload": True,
                "reload_dirs": [str(lookup_app.parent)],
                "app_dir": str(lookup_app.parent),
                "timeout_graceful_shutdown": 1,
            },
        )
    ]
    out = result.stdout
    assert "CallStart URL  http://127.0.0.1:8000/vns/call-start" in out
    assert "CallEnd URL    http://127.0.0.1:8000/vns/call-end" in out
    assert "Tools URL      http://127.0.0.1:8000/vns/tools" in out
    # The token is recognisable but not given away.
    assert f"Authorization: Bearer {token[:3]}…{token[-3:]}" in out
    assert token not in result.output
    assert "VNS_PUBLIC_URL is not set" in result.stderr
    assert "insecure" not in result.output


def test_the_public_url_host_port_and_no_reload(
    run: Callable[..., Result], lookup_app: Path, served: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VNS_PUBLIC_URL", "https://agent.example.com/")
    result = run("dev", "agent", "--host", "0.0.0.0", "--port", "9000", "--no-reload")
    assert result.exit_code == 0, result.output
    served[0][1].pop("log_config")
    assert served[0][1] == {
        "host": "0.0.0.0",
        "port": 9000,
        "reload": False,
        "reload_dirs": None,
        "app_dir": str(lookup_app.parent),
        "timeout_graceful_shutdown": 1,
    }
    assert "CallStart URL  https://agent.example.com/vns/call-start" in result.stdout
    assert "VNS_PUBLIC_URL is not set" not in result.stderr


def test_the_project_app_and_its_prefix(
    run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls, tmp_path: Path, token: str
) -> None:
    write("pyproject.toml", '[tool.vns-sdk]\napp = "desk.app:app"\n')
    write("desk/__init__.py", "")
    write("desk/app.py", f'from vns_sdk import VNSApp\napp = VNSApp(webhook_token="{token}", prefix="/hooks")\n')
    result = run("dev", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert served[0][0] == ("desk.app:app",)
    assert served[0][1]["app_dir"] == str(tmp_path)
    assert "http://127.0.0.1:8123/hooks/call-end" in result.stdout


def test_a_short_token_is_not_shown_at_all(
    run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls
) -> None:
    write("app.py", 'from vns_sdk import VNSApp\napp = VNSApp(webhook_token="short-secret")\n')
    result = run("dev", "app.py")
    assert result.exit_code == 0, result.output
    assert "Authorization: Bearer …   (the value of VNS_WEBHOOK_TOKEN)" in result.stdout
    assert "short" not in result.stdout


def test_another_header_and_basic_auth(
    run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls, token: str
) -> None:
    write(
        "app.py",
        f"""
        from vns_sdk import VNSApp
        app = VNSApp(
            webhook_token="{token}", webhook_header="X-VNS-Token", webhook_basic_auth="vns:pa55word-long-enough"
        )
        """,
    )
    result = run("dev", "app.py")
    assert result.exit_code == 0, result.output
    assert f"X-VNS-Token: {token[:3]}…{token[-3:]}" in result.stdout
    assert "HTTP Basic auth, user 'vns'" in result.stdout
    assert "pa55word" not in result.output


def test_insecure_development_mode_warns(
    run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls
) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    result = run("dev", "app.py", "--insecure-dev")
    assert result.exit_code == 0, result.output
    assert "warning: insecure development mode" in result.stderr
    assert "none (insecure development mode)" in result.stdout
    assert len(served) == 1


def test_without_a_token_it_says_how_to_set_one(
    run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls
) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    result = run("dev", "app.py")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No webhook token")
    assert "put VNS_WEBHOOK_TOKEN in .env, or pass --insecure-dev" in result.stderr
    assert result.stderr.count("\n") == 1
    assert served == []
    # In a project that has an .env.example (as `vns-sdk new` makes), the message points at it.
    write(".env.example", "VNS_WEBHOOK_TOKEN=\n")
    result = run("dev", "app.py")
    assert "put VNS_WEBHOOK_TOKEN in .env (see .env.example), or pass --insecure-dev" in result.stderr
    assert served == []


def test_an_env_file(run: Callable[..., Result], write: Callable[[str, str], Path], served: Calls, token: str) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    write("config/prod.env", f"VNS_WEBHOOK_TOKEN={token}\n")
    assert run("dev", "app.py", "--env-file", "config/prod.env").exit_code == 0
    missing = run("dev", "app.py", "--env-file", "nope.env")
    assert missing.exit_code == 1
    assert missing.stderr == "error: nope.env: no such file\n"


def test_bad_port_is_a_usage_error(run: Callable[..., Result], lookup_app: Path, served: Calls) -> None:
    result = run("dev", "agent/app.py", "--port", "70000")
    assert result.exit_code == 2
    assert served == []


@pytest.mark.skipif(not (REPO / "examples/lookup/app.py").is_file(), reason="needs the lookup example")
def test_the_lookup_example(
    run: Callable[..., Result], served: Calls, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", token)
    result = run("dev", "examples/lookup/app.py")
    assert result.exit_code == 0, result.output
    (import_string,), options = served[0]
    module, _, attr = str(import_string).partition(":")
    # Imported as `app` from its folder, or as `lookup.app` when the folder is a package: the same file.
    assert Path(str(options["app_dir"]), *module.split(".")).with_suffix(".py") == REPO / "examples/lookup/app.py"
    assert attr == "app"
    assert "/vns/call-start" in result.stdout


def test_port_zero_serves_on_a_free_port_and_says_which(
    run: Callable[..., Result], lookup_app: Path, served: Calls
) -> None:
    result = run("dev", "agent/app.py", "--port", "0")
    assert result.exit_code == 0, result.output
    port = served[0][1]["port"]
    assert isinstance(port, int) and 0 < port < 65536
    assert f"CallStart URL  http://127.0.0.1:{port}/vns/call-start" in result.stdout


def test_the_apps_own_log_lines_show(
    run: Callable[..., Result], lookup_app: Path, served: Calls, capfd: pytest.CaptureFixture[str]
) -> None:
    """uvicorn is given a logging configuration that prints the app's INFO lines (a CallEnd handler's)."""
    import logging
    import logging.config

    assert run("dev", "agent/app.py").exit_code == 0
    config = served[0][1]["log_config"]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    loggers = {
        name: (logger.level, list(logger.handlers), logger.propagate)
        for name, logger in ((name, logging.getLogger(name)) for name in ("uvicorn", "uvicorn.error", "uvicorn.access"))
    }
    try:
        logging.config.dictConfig(config)  # type: ignore[arg-type]
        logging.getLogger("my_agent.app").info("call 42 ended with status 0")
        logging.getLogger("httpx").info("HTTP Request: POST http://testserver/vns/tools")
        logging.getLogger("vns_sdk.app").info("webhook tools", extra={"vns_endpoint": "tools"})
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        for name, (level, handlers, propagate) in loggers.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
    err = capfd.readouterr().err
    assert "call 42 ended with status 0" in err
    assert "HTTP Request" not in err and "webhook tools" not in err  # the libraries' chatter stays out


def test_the_inspector_is_on_and_its_address_printed(
    run: Callable[..., Result], lookup_app: Path, served: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    result = run("dev", "agent/app.py")
    assert result.exit_code == 0, result.output
    assert "Watch every call: http://127.0.0.1:8000/vns/inspector/" in result.stdout
    assert "any user name, the webhook token as password" in result.stdout
    assert "talk to the agent there: Chat with the agent" in result.stdout
    # The server process (uvicorn's reloader starts it) reads these from the environment.
    assert os.environ["VNS_INSPECTOR"] == "1"
    assert os.environ["VNS_INSPECTOR_APP"] == f"{lookup_app.resolve()}:app"


def test_no_inspector(run: Callable[..., Result], lookup_app: Path, served: Calls) -> None:
    import os

    result = run("dev", "agent/app.py", "--no-inspector")
    assert result.exit_code == 0, result.output
    assert "inspector" not in result.stdout and "Chat with the agent" not in result.stdout
    assert os.environ["VNS_INSPECTOR"] == "0"
