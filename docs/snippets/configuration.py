"""Settings that are not `VNSApp` arguments go through `VNSSettings`."""

from __future__ import annotations

# --8<-- [start:settings]
from vns_sdk import VNSApp, VNSSettings

settings = VNSSettings(webhook_header="X-Api-Key", webhook_token="s3cret-token", token_grace_seconds=60)
app = VNSApp(instructions="You are a friendly agent.", settings=settings)
# --8<-- [end:settings]

__all__ = ["app", "settings"]
