"""The official MCP SDK is an extra: a clear error, naming the extra, when it is not installed."""

from __future__ import annotations

import importlib.util

from vns_sdk.exceptions import ConfigurationError

__all__ = ["require_sdk"]


def require_sdk(feature: str) -> None:
    """Check that the ``mcp`` package is importable, without importing it.

    Raises:
        ConfigurationError: It is not installed; the message says how to install it.
    """
    if importlib.util.find_spec("mcp") is None:
        raise ConfigurationError(f"{feature} needs the MCP SDK: pip install 'vns-sdk[mcp]'")
