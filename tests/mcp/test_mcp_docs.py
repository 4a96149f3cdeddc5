"""The MCP page's code runs: every Python block of docs/mcp.md on its own, and its JSON is what the app answers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```$", re.M | re.S)


def blocks(lang: str) -> list[str]:
    return [fence["body"] for fence in FENCE.finditer(PAGE.read_text(encoding="utf-8")) if fence["lang"] == lang]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", "docs-test-token")
    monkeypatch.delenv("VNS_INSECURE_DEV", raising=False)
    monkeypatch.setenv("CALENDAR_OAUTH_TOKEN", "ya29.docs-oauth-token")


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_every_python_block_runs_on_its_own(index: int) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_mcp_block"}
    exec(compile(blocks("python")[index], f"docs/mcp.md block {index}", "exec"), namespace)


def test_the_session_json_is_what_the_first_block_declares() -> None:
    from vns_sdk import VNSApp

    namespace: dict[str, Any] = {"__name__": "docs_mcp_block"}
    exec(compile(blocks("python")[0], "docs/mcp.md block 0", "exec"), namespace)
    app: VNSApp = namespace["app"]
    (declared,) = app.build_session().tools or []
    shown = json.loads(blocks("json")[0])
    dumped = declared.model_dump(mode="json", exclude_unset=True)  # type: ignore[union-attr]
    assert dumped == {**shown, "authorization": "ya29.docs-oauth-token"}


def test_the_served_block_registers_the_mcp_route() -> None:
    namespace: dict[str, Any] = {"__name__": "docs_mcp_block"}
    source = next(block for block in blocks("python") if "app.serve_mcp()" in block)
    exec(compile(source, "docs/mcp.md serve block", "exec"), namespace)
    assert namespace["app"].url_path_for("mcp") == "/vns/mcp"
