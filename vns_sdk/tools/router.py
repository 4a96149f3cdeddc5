"""Where `vns_sdk.app` finds `ToolDecorator` until it imports it from `vns_sdk.tools._router`."""

from __future__ import annotations

from vns_sdk.tools._router import ToolDecorator

__all__ = ["ToolDecorator"]
