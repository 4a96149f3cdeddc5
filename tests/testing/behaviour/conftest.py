"""Fixtures of the behaviour tests: the booking agent against the scripted model, and a stub judge."""

from __future__ import annotations

from typing import Any

import pytest
from behaviour_apps import booking_app, booking_script

from vns_sdk.testing.behaviour import BehaviourAgent, StubJudge

__all__: list[str] = []


@pytest.fixture
def booked() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def judge() -> StubJudge:
    return StubJudge({"confirms the time and the party size": "two", "reads back the number": "555 1212"})


@pytest.fixture
def agent(booked: list[dict[str, Any]], judge: StubJudge) -> BehaviourAgent:
    return BehaviourAgent(booking_app(booked), script=booking_script(), judge=judge)
