"""Tests of the help desk example: answering from the articles, and handing the caller over to a person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vns_sdk.testing import SimulatedCall, VNSSimulator, load_app

HERE = Path(__file__).parent


@pytest.fixture
def vns_app() -> Iterator[Any]:
    """The example's app, for the `vns` and `vns_call` fixtures of the vns-sdk pytest plugin."""
    app = load_app("app.py:app", base_dir=HERE)
    load_app("app.py:handovers", base_dir=HERE).tickets.clear()  # each test starts with no tickets
    yield app


@pytest.fixture
def handovers(vns_app: Any) -> Any:
    """The support team's queue the example records hand-overs in."""
    return load_app("app.py:handovers", base_dir=HERE)


def test_answers_from_the_help_articles(vns_call: SimulatedCall) -> None:
    reply = vns_call.invoke("search_help_articles", query="I forgot my password")
    assert reply["found"] is True
    assert reply["article"].startswith("To reset your password")
    assert vns_call.invoke("search_help_articles", query="printer on fire")["found"] is False


@pytest.mark.vns_call(caller_id="3035550177", caller_id_name="Grace Hopper")
def test_escalates_to_a_person_and_ends_the_call(vns_call: SimulatedCall, handovers: Any) -> None:
    reply = vns_call.invoke(
        "escalate_to_human", topic="technical", summary="The VPN drops every few minutes.", urgency="urgent"
    )
    assert reply["ticket_id"] == "HD-501"
    assert "within 15 minutes" in reply["handover_message"]
    assert "end_conversation" in reply["next_step"]  # the model is told to end the call next

    assert vns_call.invoke("end_conversation", user_input="OK, thanks, bye")["ended"] is True
    vns_call.end(duration=95)

    ticket = handovers.tickets["HD-501"]
    assert (ticket.caller_id, ticket.topic, ticket.urgency) == ("3035550177", "technical", "urgent")
    assert ticket.call_seconds == pytest.approx(95)  # filled in from the CallEnd report


def test_one_ticket_per_call_even_if_asked_twice(vns_call: SimulatedCall, handovers: Any) -> None:
    first = vns_call.invoke("escalate_to_human", topic="billing", summary="Charged twice.")
    second = vns_call.invoke("escalate_to_human", topic="billing", summary="Charged twice, please hurry.")
    assert first["ticket_id"] == second["ticket_id"]
    assert len(handovers.tickets) == 1
    assert "within 60 minutes" in first["handover_message"]


def test_each_call_gets_its_own_ticket(vns: VNSSimulator, handovers: Any) -> None:
    for caller in ("3035550101", "3035550102"):
        with vns.call(caller_id=caller) as call:
            call.invoke("escalate_to_human", topic="account", summary="Locked out.")
    assert [ticket.caller_id for ticket in handovers.tickets.values()] == ["3035550101", "3035550102"]


def test_a_call_without_handover_opens_no_ticket(vns_call: SimulatedCall, handovers: Any) -> None:
    vns_call.invoke("search_help_articles", query="invoice")
    vns_call.end()
    assert handovers.tickets == {}


def test_the_topic_must_be_one_the_desk_knows(vns_call: SimulatedCall) -> None:
    assert vns_call.tools["escalate_to_human"].parameters["properties"]["topic"]["enum"] == [
        "account",
        "billing",
        "technical",
        "other",
    ]
    reply = vns_call.invoke_raw("escalate_to_human", {"topic": "plumbing", "summary": "Leak."}).json()
    assert reply["error"] == "invalid_arguments"
    assert reply["problems"][0]["argument"] == "topic"
