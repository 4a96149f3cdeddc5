"""`vns-sdk tools` and `vns-sdk session`: what the model is offered, and the CallStart answer with secrets masked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result


def test_tools_json_is_the_array_sent_to_openai(run: Callable[..., Result], lookup_app: Path) -> None:
    result = run("tools", "agent/app.py", "--json")
    assert result.exit_code == 0, result.output
    tools = json.loads(result.stdout)
    session = run("session", "agent/app.py")
    assert session.exit_code == 0, session.output
    assert json.loads(session.stdout)["session"]["tools"] == tools
    lookup = tools[1]
    assert lookup == {
        "type": "function",
        "name": "lookup_name_or_phone",
        "description": "Looks up the name of a person from a phone number or the phone number from a name.",
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Name of the person to search for."},
                "phoneNumber": {
                    "type": "string",
                    "description": "Phone number to search, preferably in E.164 format like +13035551212",
                },
            },
        },
    }


def test_tools_table(run: Callable[..., Result], lookup_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = run("tools", "agent/app.py")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 tools" in out
    for text in ("end_conversation", "lookup_name_or_phone", "book", "phoneNumber", "Books a slot."):
        assert text in out
    assert "hour: integer, required" in out
    assert "confirm: boolean, optional" in out
    assert '"monday", "tuesday"' in out


def test_tools_of_an_app_without_any(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    write("bare.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    assert json.loads(run("tools", "bare.py", "--json").stdout) == []
    assert "0 tools" in run("tools", "bare.py").stdout


def test_session_masks_every_secret(run: Callable[..., Result], lookup_app: Path, token: str) -> None:
    result = run("session", "agent/app.py", "--caller-id", "3032639999", "--customer-call-id", "order-42")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    instructions = answer["VoiceElements_Instructions"]
    assert instructions["aiUrl"]["headers"] == {"Authorization": "Bearer sk-…789"}
    tool_headers = instructions["defaultToolsUrlBase"]["headers"]
    assert tool_headers and all(value.startswith("Bearer ") and "…" in value for value in tool_headers.values())
    assert instructions["customerCallId"] == "order-42"
    assert answer["type"] == "session.update"
    assert "sk-test-openai-key" not in result.output
    assert token not in result.output


def test_session_runs_the_call_start_handlers(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    write(
        "app.py",
        """
        from vns_sdk import CallContext, VNSApp

        app = VNSApp(instructions="Hello.")

        @app.on_call_start
        async def who(call: CallContext) -> None:
            assert call.session is not None
            call.session.instructions = f"Hello {call.caller_id_name} from {call.caller_id}."
        """,
    )
    result = run("session", "app.py", "--caller-id", "3032639999", "--caller-name", "Ron Tanner")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["session"]["instructions"] == "Hello Ron Tanner from 3032639999."


def test_tools_check_passes_a_well_described_app(run: Callable[..., Result], lookup_app: Path) -> None:
    result = run("tools", "agent/app.py", "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 tools checked: no problem found.\n"


def test_tools_check_reports_each_problem_and_fails(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write(
        "sloppy.py",
        '''
        from vns_sdk import VNSApp

        app = VNSApp()


        @app.tool
        def ping(target: str) -> str:
            return target


        @app.tool(name="Ping")
        def ping_again(target: str) -> str:
            """Pings again.

            Args:
                host: Where to.
            """
            return target
        ''',
    )
    result = run("tools", "sloppy.py", "--check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.rsplit("[", 1)[-1] for line in lines[:-1]] == [
        "no-description]",
        "undescribed-parameter]",
        "unknown-argument-doc]",
        "undescribed-parameter]",
        "name-collision]",
    ]
    assert lines[0].startswith("ping: no description: ")
    assert lines[-1] == "5 problems in 2 tools."


def test_help_shows_flags_as_flags(run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    import typer.main

    from vns_sdk.cli.main import app

    monkeypatch.setenv("COLUMNS", "200")
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in ["", *commands]:
        text = run(*([name] if name else []), "--help").stdout
        assert "<bool>" not in text, f"vns-sdk {name} --help shows a flag as taking a value"
    assert "--json " in run("tools", "--help").stdout
