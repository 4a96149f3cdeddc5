"""Webhook credentials given as arguments instead of environment variables."""

from __future__ import annotations

import os

from vns_sdk import VNSApp

__all__ = ["app"]

# --8<-- [start:config]
app = VNSApp(
    instructions="You are a friendly agent.",
    # Both tokens are accepted while VNS support switches from the old one to the new one.
    webhook_token=[os.environ.get("NEW_VNS_TOKEN", "new-token-from-your-vault"), "old-token-being-retired"],
    public_url="https://agent.example.com",
)
# --8<-- [end:config]
