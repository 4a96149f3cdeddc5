"""Finding the app: a file, a folder, module:attr, the project's pyproject.toml, and every way it can fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Writer = Callable[[str, str], Path]


def tool_names(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [tool["name"] for tool in json.loads(result.stdout)]


EXPECTED = ["end_conversation", "lookup_name_or_phone", "book"]


def test_a_file(run: Callable[..., Result], lookup_app: Path) -> None:
    assert tool_names(run("tools", "agent/app.py", "--json")) == EXPECTED


def test_a_folder_holding_app_py(run: Callable[..., Result], lookup_app: Path) -> None:
    assert tool_names(run("tools", "agent", "--json")) == EXPECTED


def test_a_file_with_an_attribute(run: Callable[..., Result], write: Writer, lookup_source: str) -> None:
    write("service.py", lookup_source.replace("app = VNSApp(", "voice = VNSApp(").replace("@app.", "@voice."))
    assert tool_names(run("tools", "service.py:voice", "--json")) == EXPECTED


def test_module_and_attribute(run: Callable[..., Result], write: Writer, lookup_source: str) -> None:
    write("agent_mod.py", lookup_source)
    assert tool_names(run("tools", "agent_mod:app", "--json")) == EXPECTED
    assert tool_names(run("tools", "agent_mod", "--json")) == EXPECTED


def test_a_file_inside_a_package_imports_with_its_package(
    run: Callable[..., Result], write: Writer, lookup_source: str
) -> None:
    write("shop/__init__.py", "")
    write("shop/data.py", 'GREETING = "You look up people."\n')
    write(
        "shop/app.py", lookup_source.replace("from vns_sdk import", "from .data import GREETING\nfrom vns_sdk import")
    )
    assert tool_names(run("tools", "shop/app.py", "--json")) == EXPECTED


def test_the_project_config(
    run: Callable[..., Result], write: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lookup_source: str
) -> None:
    write("my_agent/__init__.py", "")
    write("my_agent/app.py", lookup_source)
    write("pyproject.toml", '[project]\nname = "my-agent"\n\n[tool.vns-sdk]\napp = "my_agent.app:app"\n')
    assert tool_names(run("tools", "--json")) == EXPECTED
    # From a subfolder too: the nearest pyproject.toml names the app and is where it imports from.
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path / "tests")
    assert tool_names(run("tools", "--json")) == EXPECTED


def test_dot_env_is_read_and_the_environment_wins(
    run: Callable[..., Result], write: Writer, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    write("plain.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    write(
        ".env",
        f"""
        # settings
        export VNS_WEBHOOK_TOKEN='{token}'
        VNS_PUBLIC_URL=https://agent.example.com # where VNS reaches it
        VNS_PREFIX="/voice"
        """,
    )
    monkeypatch.setenv("VNS_PREFIX", "/hooks")
    result = run("dev", "plain.py")
    assert result.exit_code == 0, result.output
    assert "https://agent.example.com/hooks/call-start" in result.stdout


def test_dot_env_values_are_read_as_dotenv_writes_them(run: Callable[..., Result], write: Writer) -> None:
    # A quoted value may span lines; ${...} is kept as written (no interpolation, as docker --env-file).
    write("plain.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    write(".env", 'VNS_INSTRUCTIONS="Be brief.\nGreet #1 by name."\nVNS_VOICE=${NOT_EXPANDED}\n')
    result = run("session", "plain.py")
    assert result.exit_code == 0, result.output
    session = json.loads(result.stdout)["session"]
    assert session["instructions"] == "Be brief.\nGreet #1 by name."
    assert session["audio"]["output"]["voice"] == "${NOT_EXPANDED}"


@pytest.mark.parametrize(
    ("files", "argument", "message"),
    [
        ({}, "nowhere/app.py", "error: nowhere/app.py: no such file"),
        (
            {"empty/readme.txt": "x"},
            "empty",
            "error: empty: no app.py in this folder",
        ),
        ({"notes.txt": "x"}, "notes.txt:app", "error: notes.txt: not a Python file"),
        ({}, "no_such_module:app", "error: cannot import module 'no_such_module' from"),
        ({}, "not a name", "error: 'not a name' is neither a file nor module:attr"),
        ({"a.py": "x = 1\n"}, "a.py:1x", "error: 'a.py:1x': '1x' is not a Python name"),
        ({"a.py": "x = 1\n"}, "a.py", "error: module 'a' has no attribute 'app'; it defines no VNSApp"),
        (
            {"a.py": "<the lookup app>"},
            "a.py:application",
            "error: module 'a' has no attribute 'application'; it defines: app",
        ),
        ({"a.py": "app = 42\n"}, "a.py", "error: a:app is a int, not a VNSApp"),
        ({"a.py": "import requests_that_do_not_exist\n"}, "a.py", "error: importing 'a' failed: No module named"),
        (
            {"a.py": "x = 1\nundefined_name\n"},
            "a.py",
            "NameError: name 'undefined_name' is not defined (a.py, line 2)",
        ),
        ({"a.py": "def (:\n"}, "a.py", "error: importing 'a' failed: SyntaxError: invalid syntax (a.py, line 1)"),
        ({}, None, "error: no app given and no [tool.vns-sdk] app in pyproject.toml"),
        ({"pyproject.toml": "[tool.vns-sdk]\napp = 3\n"}, None, "[tool.vns-sdk] app must be a string"),
        ({"pyproject.toml": "[tool.vns-sdk\n"}, None, "pyproject.toml: not valid TOML"),
    ],
)
def test_mistakes_are_one_line(
    run: Callable[..., Result],
    write: Writer,
    lookup_source: str,
    files: dict[str, str],
    argument: str | None,
    message: str,
) -> None:
    for relative, text in files.items():
        write(relative, lookup_source if text == "<the lookup app>" else text)
    result = run("tools", *([argument] if argument else []))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: "), result.stderr
    assert message.removeprefix("error: ") in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_app_without_a_token_is_reported_when_it_would_be_served(run: Callable[..., Result], write: Writer) -> None:
    write("plain.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    result = run("dev", "plain.py")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No webhook token: set VNS_WEBHOOK_TOKEN")
    assert result.stderr.count("\n") == 1
