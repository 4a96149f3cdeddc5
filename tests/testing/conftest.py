"""Fixtures of the harness's own tests: the apps of `harness_apps`."""

from __future__ import annotations

import pytest
from harness_apps import FakeVNSApp, build_lookup_app

from vns_sdk import VNSApp


@pytest.fixture
def lookup_app() -> VNSApp:
    return build_lookup_app()


@pytest.fixture
def fake_app() -> FakeVNSApp:
    return FakeVNSApp()
