"""The root command: version, help on every command, lazy imports, and how mistakes are reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

import vns_sdk

COMMANDS = ["new", "dev", "tools", "session", "call", "chat", "replay", "test", "dial"]


def test_version(run: Callable[..., Result]) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"vns-sdk {vns_sdk.__version__}"


def test_no_arguments_shows_the_commands(run: Callable[..., Result]) -> None:
    result = run()
    assert "error" not in result.stderr
    for command in COMMANDS:
        assert f" {command} " in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(run: Callable[..., Result], command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert f"vns-sdk {command}" in result.stdout.split("Examples:")[1]


def test_help_imports_nothing_heavy() -> None:
    # `vns-sdk --help` is what a new user runs first: it must not pay for the server, the app or HTTP.
    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from vns_sdk.cli.main import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ['uvicorn', 'httpx', 'vns_sdk.app', 'vns_sdk.testing', 'vns_sdk.client', 'starlette', 'pydantic']\n"
        "print(json.dumps([name for name in heavy if name in sys.modules]))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == []


def test_console_script_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv = ['vns-sdk', '--version']; from vns_sdk.cli import main; main()"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"vns-sdk {vns_sdk.__version__}"


def test_output_into_a_closed_pipe_ends_quietly(write: Callable[[str, str], Path]) -> None:
    write("app.py", "from vns_sdk import VNSApp\napp = VNSApp(insecure_dev=True)\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as after `| head -1`
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import sys; sys.argv[0] = 'vns-sdk'; from vns_sdk.cli import main; main()"]
            + ["tools", "app.py", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1


def test_a_user_mistake_is_one_line_on_stderr_without_traceback(run: Callable[..., Result]) -> None:
    result = run("tools", "missing.py")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: missing.py: no such file\n"


def test_debug_shows_the_traceback(run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_SDK_DEBUG", "1")
    result = run("tools", "missing.py")
    assert result.exit_code == 1
    assert result.exception is not None
    assert "no such file" in str(result.exception)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["dail"], "error: No such command 'dail'. Did you mean 'dial'? (see: vns-sdk --help)\n"),
        (["--bogus"], "error: No such option: --bogus (see: vns-sdk --help)\n"),
        (["dial", "3032639999"], "error: Missing option '--caller-id'. (see: vns-sdk dial --help)\n"),
        (["dial"], "error: Missing argument 'NUMBER'. (see: vns-sdk dial --help)\n"),
        (["test"], "error: Missing argument 'PATH'. (see: vns-sdk test --help)\n"),
    ],
)
def test_usage_errors_are_one_line_too(run: Callable[..., Result], args: list[str], line: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == line


def test_a_bad_option_value_names_the_option(run: Callable[..., Result]) -> None:
    result = run("dev", "--port", "eighty")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Invalid value for '--port'")
    assert result.stderr.endswith("(see: vns-sdk dev --help)\n")
    assert result.stderr.count("\n") == 1
