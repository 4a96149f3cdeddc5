"""Where `vns_sdk.app` finds `invoke_tool_body` until it imports it from `vns_sdk.tools._invoke`."""

from __future__ import annotations

from vns_sdk.tools._invoke import invoke_tool_body

__all__ = ["invoke_tool_body"]
