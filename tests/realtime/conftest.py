"""Fixtures of the bridge's tests: the agent app, the scripted Realtime model, a bridge between them.

``server`` is a `ScriptedRealtimeServer` that accepts only the app's key; ``bridge`` points the app's
calls at it (``realtime_url``), so every test holds a whole call: CallStart, the Realtime session, the
tool requests and CallEnd.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bridge_apps import KEY, Ended, build_app, standard_script

from vns_sdk import VNSApp
from vns_sdk.realtime import RealtimeBridge
from vns_sdk.testing.realtime import ScriptedRealtimeServer

__all__: list[str] = []


@pytest.fixture
def ended() -> Ended:
    """The CallEnd reports the app received."""
    return []


@pytest.fixture
def app(ended: Ended) -> VNSApp:
    return build_app(ended)


@pytest.fixture
async def server() -> AsyncIterator[ScriptedRealtimeServer]:
    async with ScriptedRealtimeServer(standard_script(), api_key=KEY) as running:
        yield running


@pytest.fixture
def bridge(app: VNSApp, server: ScriptedRealtimeServer) -> RealtimeBridge:
    return RealtimeBridge(app, realtime_url=server.url())


@pytest.fixture
def no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, organization or project in the environment (the bridge must not need them)."""
    for name in ("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
