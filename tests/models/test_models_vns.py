"""The VNS payload models: wire names, both spellings on input, unknown fields kept, readable rejections."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from vns_sdk.models import (
    CallEndRequest,
    CallEndResponse,
    CallStartRequest,
    CallStartResponse,
    EndpointConfig,
    OutboundCallRequest,
    OutboundCallResponse,
    RealtimeSession,
    SessionUpdate,
    ToolInvocation,
    ToolsUrlAdapter,
    VoiceElementsInstructions,
    VoiceElementsInvokeTool,
)


def instructions(**changes: Any) -> VoiceElementsInstructions:
    values: dict[str, Any] = {
        "ai_url": EndpointConfig(url="wss://api.openai.com/v1/realtime?model=gpt-realtime"),
        "max_seconds": 300,
        "default_tools_url_base": EndpointConfig(url="https://example.com/vns/tools"),
    }
    return VoiceElementsInstructions(**(values | changes))


def test_call_start_request_accepts_camel_and_snake_case() -> None:
    camel = CallStartRequest.model_validate({"sessionGuid": "g", "callerIdName": "Jane", "outboundTriggered": True})
    snake = CallStartRequest.model_validate({"session_guid": "g", "caller_id_name": "Jane", "outbound_triggered": True})
    assert camel == snake
    assert camel.caller_id_name == "Jane"
    assert camel.outbound_triggered is True
    assert snake.model_dump(exclude_unset=True) == {
        "sessionGuid": "g",
        "callerIdName": "Jane",
        "outboundTriggered": True,
    }


def test_unknown_fields_are_kept_and_dumped_back() -> None:
    raw = {"sessionGuid": "g", "newVnsField": {"nested": [1, 2]}, "callStart": "2026-03-12T10:42:15Z"}
    request = CallStartRequest.model_validate(raw)
    assert request.model_extra == {"newVnsField": {"nested": [1, 2]}}
    assert request.model_dump(mode="json", exclude_unset=True) == raw

    report = CallEndRequest.model_validate({"sessionGuid": "g", "billingSeconds": 66})
    assert report.model_dump(mode="json", exclude_unset=True) == {"sessionGuid": "g", "billingSeconds": 66}


def test_call_end_without_session_guid_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        CallEndRequest.model_validate_json('{"status": 0, "callStart": "2026-03-20T02:43:39.6521589Z"}')
    assert info.value.error_count() == 1
    error = info.value.errors()[0]
    assert error["loc"] == ("sessionGuid",)
    assert error["type"] == "missing"
    assert "sessionGuid" in str(info.value) and "Field required" in str(info.value)


def test_call_end_nullable_fields_and_records() -> None:
    report = CallEndRequest.model_validate(
        {
            "sessionGuid": "g",
            "callConnected": None,
            "status": 3,
            "errorMessage": "No answer",
            "outboundTriggered": True,
            "outboundCallResult": {"result": "NoAnswer"},
            "callReferredOut": True,
            "transfers": [{"to": "+13035550100"}],
            "logInformation": {"turns": 4},
        }
    )
    assert report.call_connected is None
    assert report.status == 3
    assert report.outbound_call_result == {"result": "NoAnswer"}
    assert report.transfers == [{"to": "+13035550100"}]
    assert report.log_information == {"turns": 4}
    assert report.call_referred_out is True


def test_call_end_response_success_and_failure() -> None:
    assert CallEndResponse.success().model_dump(mode="json", exclude_unset=True) == {
        "status": 0,
        "errorMessage": "Success",
    }
    assert CallEndResponse.failure("database down").model_dump() == {"status": 1, "errorMessage": "database down"}
    assert CallEndResponse.failure("busy", status=7).status == 7
    assert CallEndResponse().model_dump() == {"status": 0, "errorMessage": "Success"}


def test_outbound_request_dumps_in_spec_order() -> None:
    request = OutboundCallRequest(called_number="3032639999", caller_id="7206999999", customer_call_id="abc123")
    assert list(request.model_dump(exclude_unset=True)) == ["customerCallId", "calledNumber", "callerId"]
    with pytest.raises(ValidationError, match="calledNumber"):
        OutboundCallRequest.model_validate({"callerId": "7206999999"})


def test_outbound_response_keeps_extra_fields_and_reports_failure() -> None:
    response = OutboundCallResponse.model_validate({"status": 2, "errorMessage": "Bad number", "sessionGuid": "g"})
    assert not response.ok
    assert response.model_extra == {"sessionGuid": "g"}


def test_endpoint_headers_stay_out_of_repr() -> None:
    endpoint = EndpointConfig(url="wss://x", headers={"Authorization": "Bearer sk-secret"})
    assert "sk-secret" not in repr(endpoint)
    assert "sk-secret" not in repr(instructions(ai_url=endpoint))
    assert endpoint.model_dump()["headers"] == {"Authorization": "Bearer sk-secret"}


def test_instructions_accept_an_adapter_and_check_its_template() -> None:
    assert instructions(default_tools_url_adapter=ToolsUrlAdapter("/<<toolname>>")).default_tools_url_adapter == (
        "/<<toolname>>"
    )
    assert instructions(default_tools_url_adapter="?toolname=<<toolname>>").default_tools_url_adapter
    with pytest.raises(ValidationError) as info:
        instructions(default_tools_url_adapter="/<<toolName>>")
    message = str(info.value)
    assert "default_tools_url_adapter" in message  # the location uses the spelling given
    assert "unknown placeholder <<toolName>>" in message
    assert "<<toolname>>, <<sessionguid>>, <<customerCallId>>" in message


def test_instructions_reject_a_non_positive_time_limit() -> None:
    with pytest.raises(ValidationError, match="max_seconds"):
        instructions(max_seconds=0)


def test_call_start_response_built_in_python_puts_instructions_first() -> None:
    answer = CallStartResponse(
        voice_elements_instructions=instructions(customer_call_id="c-1"),
        session=RealtimeSession(instructions="Be brief."),
    )
    dumped = answer.model_dump(mode="json", exclude_unset=True)
    assert list(dumped) == ["VoiceElements_Instructions", "type", "session"]
    assert dumped["type"] == "session.update"
    assert dumped["session"] == {"type": "realtime", "instructions": "Be brief."}
    assert dumped["VoiceElements_Instructions"]["customerCallId"] == "c-1"
    by_name = answer.model_dump(by_alias=False, exclude_unset=True)
    assert list(by_name)[0] == "voice_elements_instructions"
    assert isinstance(answer, SessionUpdate)


def test_call_start_response_accepts_the_python_name() -> None:
    answer = CallStartResponse.model_validate(
        {"voice_elements_instructions": instructions().model_dump(), "session": {"type": "realtime"}}
    )
    assert answer.voice_elements_instructions.max_seconds == 300


def test_tool_invocation_build_puts_the_wrapper_first() -> None:
    invocation = ToolInvocation.build(
        "lookup_name_or_phone", {"name": "Ron"}, session_guid="SOME SESSION GUID", customer_call_id="CallId-001"
    )
    assert json.loads(invocation.model_dump_json()) == {
        "VoiceElements_InvokeTool": {
            "toolName": "lookup_name_or_phone",
            "sessionGuid": "SOME SESSION GUID",
            "customerCallId": "CallId-001",
        },
        "name": "Ron",
    }
    assert invocation.arguments == {"name": "Ron"}


def test_tool_invocation_build_refuses_an_argument_named_like_the_wrapper() -> None:
    with pytest.raises(ValueError, match="VoiceElements_InvokeTool"):
        ToolInvocation.build("t", {"VoiceElements_InvokeTool": 1}, session_guid="g", customer_call_id=None)


def test_tool_invocation_without_wrapper_is_all_arguments() -> None:
    invocation = ToolInvocation.model_validate({"invoke_tool": "yes", "toolName": "x", "n": 1})
    assert invocation.invoke_tool is None
    assert invocation.arguments == {"invoke_tool": "yes", "toolName": "x", "n": 1}


def test_tool_invocation_rejects_a_malformed_wrapper() -> None:
    with pytest.raises(ValidationError, match="VoiceElements_InvokeTool"):
        ToolInvocation.model_validate({"VoiceElements_InvokeTool": "lookup"})


def test_invoke_tool_wrapper_accepts_both_spellings() -> None:
    assert VoiceElementsInvokeTool.model_validate({"tool_name": "a"}) == VoiceElementsInvokeTool.model_validate(
        {"toolName": "a"}
    )


def test_assignment_is_validated() -> None:
    request = CallStartRequest(session_guid="g")
    request.call_start = "2026-03-12T10:42:15Z"  # type: ignore[assignment]
    assert request.call_start is not None and request.call_start.year == 2026
    with pytest.raises(ValidationError):
        request.outbound_triggered = "perhaps"  # type: ignore[assignment]


def test_call_start_response_dump_can_leave_the_instructions_out() -> None:
    answer = CallStartResponse(voice_elements_instructions=instructions(), event_id="e1", session=RealtimeSession())
    # What VNS forwards to OpenAI: the session.update event alone.
    assert answer.model_dump(exclude={"voice_elements_instructions"}, exclude_unset=True) == {
        "event_id": "e1",
        "type": "session.update",
        "session": {"type": "realtime"},
    }


def test_null_flags_read_as_false() -> None:
    report = CallEndRequest.model_validate({"sessionGuid": "g", "outboundTriggered": None, "callReferredOut": None})
    assert report.outbound_triggered is False and report.call_referred_out is False
    assert CallStartRequest.model_validate({"sessionGuid": "g", "outboundTriggered": None}).outbound_triggered is False
    with pytest.raises(ValidationError, match="outboundTriggered"):
        CallStartRequest.model_validate({"sessionGuid": "g", "outboundTriggered": "perhaps"})
