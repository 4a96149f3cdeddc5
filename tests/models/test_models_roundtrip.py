"""Every JSON example of the VNS documentation parses into its model and dumps back to the same JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel

from vns_sdk.models import (
    CallEndRequest,
    CallEndResponse,
    CallStartRequest,
    CallStartResponse,
    FunctionTool,
    OutboundCallRequest,
    OutboundCallResponse,
    PcmuFormat,
    ServerVad,
    ToolInvocation,
)

SPEC = Path(__file__).parents[1] / "fixtures" / "spec"
SPEC_TEXT = Path(__file__).parents[3].joinpath("shared", "seed", "voice-nexus-service.txt")

MODELS: dict[str, type[BaseModel]] = {
    "call_start_request": CallStartRequest,
    "call_start_response": CallStartResponse,
    "tool_request": ToolInvocation,
    "call_end_request": CallEndRequest,
    "call_end_response": CallEndResponse,
    "outbound_request": OutboundCallRequest,
    "outbound_response": OutboundCallResponse,
}


def load(name: str) -> str:
    return (SPEC / f"{name}.json").read_text(encoding="utf-8")


def test_every_fixture_has_a_model_except_the_illustrative_tool_reply() -> None:
    names = {path.stem for path in SPEC.glob("*.json")}
    assert names == set(MODELS) | {"tool_reply"}


@pytest.mark.skipif(not SPEC_TEXT.exists(), reason="the VNS documentation text is not beside the repository")
@pytest.mark.parametrize("name", sorted(set(MODELS) | {"tool_reply"}))
def test_fixture_is_a_verbatim_copy_of_the_spec(name: str) -> None:
    assert load(name) in SPEC_TEXT.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_spec_example_round_trips(name: str) -> None:
    raw = load(name)
    model = MODELS[name].model_validate_json(raw)
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == json.loads(raw)
    # Same keys in the same order, at every level: the dump reads like the spec.
    assert json.dumps(dumped) == json.dumps(json.loads(raw))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_plain_dump_uses_wire_names(name: str) -> None:
    model = MODELS[name].model_validate_json(load(name))
    assert json.loads(model.model_dump_json(exclude_unset=True)) == json.loads(load(name))


def test_call_start_response_fields() -> None:
    answer = CallStartResponse.model_validate_json(load("call_start_response"))
    instructions = answer.voice_elements_instructions
    assert instructions.ai_url.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert instructions.max_seconds == 300
    assert instructions.default_tools_url_base.headers == {"Token": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
    assert instructions.default_tools_url_adapter is None
    session = answer.session
    assert session.audio is not None and session.audio.input is not None and session.audio.output is not None
    assert isinstance(session.audio.input.format, PcmuFormat)
    assert isinstance(session.audio.input.turn_detection, ServerVad)
    assert session.audio.input.turn_detection.idle_timeout_ms == 30000
    assert session.audio.input.noise_reduction is None
    assert session.tools is not None
    assert [tool.name for tool in session.tools if isinstance(tool, FunctionTool)] == [
        "end_conversation",
        "lookup_name_or_phone",
    ]


def test_call_end_timestamps_are_equal_to_the_microsecond() -> None:
    report = CallEndRequest.model_validate_json(load("call_end_request"))
    assert report.call_start == datetime(2026, 3, 20, 2, 43, 39, 652158, tzinfo=timezone.utc)
    assert report.call_connected == datetime(2026, 3, 20, 2, 43, 40, 478623, tzinfo=timezone.utc)
    assert report.call_end == datetime(2026, 3, 20, 2, 44, 45, 862663, tzinfo=timezone.utc)
    assert report.model_dump(mode="json")["callEnd"] == "2026-03-20T02:44:45.8626633Z"


def test_call_start_request_fields() -> None:
    request = CallStartRequest.model_validate_json(load("call_start_request"))
    assert request.session_guid == "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"
    assert request.call_start == datetime(2026, 3, 12, 10, 42, 15, tzinfo=timezone.utc)
    assert request.outbound_triggered is False
    assert request.customer_call_id is None


def test_tool_request_splits_wrapper_and_arguments() -> None:
    invocation = ToolInvocation.model_validate_json(load("tool_request"))
    assert invocation.invoke_tool is not None
    assert invocation.invoke_tool.tool_name == "lookup_name_or_phone"
    assert invocation.invoke_tool.customer_call_id == "CallId-001"
    assert invocation.arguments == {"name": "Ron"}


def test_outbound_response_is_ok() -> None:
    assert OutboundCallResponse.model_validate_json(load("outbound_response")).ok
