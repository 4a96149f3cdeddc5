"""`vns_sdk.mcp`: its public names resolve, and a missing MCP SDK is named with the extra that installs it."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

import vns_sdk.mcp
from vns_sdk import ConfigurationError, VNSApp


@pytest.mark.parametrize("name", vns_sdk.mcp.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(vns_sdk.mcp, name).__module__.startswith("vns_sdk.")
    assert name in dir(vns_sdk.mcp)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        vns_sdk.mcp.no_such_name  # noqa: B018


def test_without_the_sdk_the_error_says_how_to_install_it(
    make_app: Callable[..., VNSApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mcp" else find_spec(name, *a))
    app = make_app()
    with pytest.raises(ConfigurationError, match=r"include_mcp needs the MCP SDK: pip install 'vns-sdk\[mcp\]'"):
        app.include_mcp("https://calendar.example.com/mcp")
    with pytest.raises(ConfigurationError, match=r"serve_mcp needs the MCP SDK"):
        app.serve_mcp()
    # Declaring a server in the session needs no SDK: OpenAI calls it.
    app.mcp_server("calendar", server_url="https://calendar.example.com/mcp", allowed_tools=["book"])
