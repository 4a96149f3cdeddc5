"""`app.mcp_server`: an MCP server the Realtime model calls directly, declared in the CallStart session.update.

The answer must be what OpenAI's GA Realtime API takes (checked with the `openai` package's own session
types), with phone-call defaults, and its credentials must reach OpenAI and nothing else: not the app's
logs, not a transcript, not what `vns-sdk session` prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_servers import WEBHOOK_TOKEN
from openai.types.realtime import SessionUpdateEvent
from typer.testing import CliRunner

from vns_sdk import ConfigurationError, VNSApp
from vns_sdk.models import McpApprovalFilter, McpTool, McpToolFilter
from vns_sdk.testing import VNSSimulator

OAUTH_TOKEN = "ya29.calendar-oauth-token-8812"
API_KEY = "crm-api-key-55e0c1"


def declare(app: VNSApp, **overrides: Any) -> McpTool:
    fields: dict[str, Any] = {
        "server_url": "https://calendar.example.com/mcp",
        "authorization": OAUTH_TOKEN,
        "headers": {"X-Api-Key": API_KEY},
        "allowed_tools": ["free_slots", "book"],
        "server_description": "The dental office's appointment book.",
    }
    return app.mcp_server("calendar", **{**fields, **overrides})


async def call_start(app: VNSApp, **simulator: Any) -> dict[str, Any]:
    async with VNSSimulator(app, **simulator) as vns, vns.acall() as call:
        return call.response.model_dump(mode="json", by_alias=True, exclude_unset=True)


async def test_the_session_offers_the_server_as_an_mcp_tool(make_app: Callable[..., VNSApp]) -> None:
    app = make_app()

    @app.tool
    def transfer(department: str) -> str:
        """Transfers the caller to a department."""
        return "ok"

    declare(app)
    answer = await call_start(app)
    tools = answer["session"]["tools"]
    assert tools[0] == {
        "type": "mcp",
        "server_label": "calendar",
        "server_url": "https://calendar.example.com/mcp",
        "authorization": OAUTH_TOKEN,
        "headers": {"X-Api-Key": API_KEY},
        "server_description": "The dental office's appointment book.",
        "allowed_tools": ["free_slots", "book"],
        "require_approval": "never",
    }
    assert [tool["name"] for tool in tools[1:]] == ["transfer"]


@pytest.mark.parametrize(
    "server",
    [
        {"server_url": "https://calendar.example.com/mcp"},
        {
            "server_url": None,
            "connector_id": "connector_googlecalendar",
            "allowed_tools": McpToolFilter(read_only=True),
        },
    ],
)
async def test_the_callstart_answer_validates_against_openais_session_types(
    make_app: Callable[..., VNSApp], server: dict[str, Any]
) -> None:
    app = make_app()
    declare(app, **server)
    answer = await call_start(app)
    event = SessionUpdateEvent.model_validate({key: answer[key] for key in ("type", "event_id", "session")})
    mcp = event.session.tools[0]  # type: ignore[union-attr,index]
    assert mcp.type == "mcp"
    assert mcp.server_label == "calendar"
    assert mcp.require_approval == "never"
    # And the whole session survives OpenAI's model unchanged: no field of ours is unknown to it.
    dumped = event.model_dump(mode="json", exclude_unset=True)
    assert dumped["session"]["tools"] == answer["session"]["tools"]


@pytest.mark.parametrize("approval", ["always", McpApprovalFilter(always=McpToolFilter(tool_names=["book"]))])
def test_asking_for_approval_is_refused_with_the_reason(make_app: Callable[..., VNSApp], approval: Any) -> None:
    app = make_app()
    with pytest.raises(ConfigurationError, match="nobody on a phone call can approve"):
        declare(app, require_approval=approval)
    assert app.build_session().tools == []


def test_a_server_without_allowed_tools_is_warned_about(
    make_app: Callable[..., VNSApp], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    with caplog.at_level(logging.WARNING, logger="vns_sdk.mcp"):
        declare(app, allowed_tools=None)
    assert "without allowed_tools" in caplog.text
    caplog.clear()
    declare(make_app())
    assert "allowed_tools" not in caplog.text


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"server_url": None}, "exactly one of server_url, connector_id or tunnel_id"),
        ({"connector_id": "connector_gmail"}, "got server_url and connector_id"),
        ({"server_url": "ftp://calendar.example.com"}, "https://"),
        ({"allowed_tools": "book"}, "list of tool names"),
    ],
)
def test_a_wrong_declaration_is_refused(make_app: Callable[..., VNSApp], fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        declare(make_app(), **fields)


def test_a_label_is_declared_once(make_app: Callable[..., VNSApp]) -> None:
    app = make_app()
    declare(app)
    with pytest.raises(ConfigurationError, match="already in the session"):
        declare(app, server_url="https://other.example.com/mcp")


def test_the_credentials_stay_out_of_the_models_repr(make_app: Callable[..., VNSApp]) -> None:
    tool = declare(make_app())
    assert OAUTH_TOKEN not in repr(tool)
    assert API_KEY not in repr(tool)


async def test_the_credentials_reach_no_log_and_no_transcript(
    make_app: Callable[..., VNSApp], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    declare(app)
    transcript = tmp_path / "call.jsonl"
    with caplog.at_level(logging.DEBUG):
        answer = await call_start(app, record=transcript)
        logging.getLogger("vns_sdk.app").warning("a handler logged %s and %s", OAUTH_TOKEN, API_KEY)
    assert answer["session"]["tools"][0]["authorization"] == OAUTH_TOKEN  # OpenAI gets it
    assert OAUTH_TOKEN not in caplog.text and API_KEY not in caplog.text
    recorded = transcript.read_text()
    assert "calendar.example.com" in recorded
    assert OAUTH_TOKEN not in recorded and API_KEY not in recorded


@pytest.fixture
def app_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    path = tmp_path / "mcp_agent.py"
    path.write_text(
        "from vns_sdk import VNSApp\n"
        "app = VNSApp(instructions='Book appointments.')\n"
        "app.mcp_server('calendar', server_url='https://calendar.example.com/mcp',\n"
        f"               authorization='{OAUTH_TOKEN}', headers={{'X-Api-Key': '{API_KEY}'}},\n"
        "               allowed_tools=['book'])\n"
    )
    yield path


def test_vns_sdk_session_masks_the_credentials(app_file: Path) -> None:
    from vns_sdk.cli.main import app as cli

    result = CliRunner().invoke(cli, ["session", str(app_file)], prog_name="vns-sdk")
    assert result.exit_code == 0, result.output
    mcp = json.loads(result.stdout)["session"]["tools"][0]
    assert mcp["server_label"] == "calendar"
    assert mcp["authorization"] == "ya2…812"
    assert mcp["headers"] == {"X-Api-Key": "crm…0c1"}
    assert OAUTH_TOKEN not in result.output and API_KEY not in result.output
