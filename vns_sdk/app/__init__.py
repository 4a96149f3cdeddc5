"""The ASGI application that answers Voice Nexus Service's webhooks, and its settings."""

from __future__ import annotations

from vns_sdk.app.application import VNSApp
from vns_sdk.settings import VNSSettings

__all__ = ["VNSApp", "VNSSettings"]
