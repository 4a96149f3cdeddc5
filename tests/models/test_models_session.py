"""The Realtime session models: every form OpenAI accepts, its constraints, and pass-through of what is new."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from vns_sdk.models import (
    AudioInput,
    AudioOutput,
    AudioTranscription,
    CustomVoice,
    FunctionTool,
    McpApprovalFilter,
    McpTool,
    McpToolFilter,
    NoiseReduction,
    PcmaFormat,
    PcmFormat,
    PcmuFormat,
    Prompt,
    RealtimeAudio,
    RealtimeSession,
    RetentionRatioTruncation,
    SemanticVad,
    ServerVad,
    SessionUpdate,
    ToolChoiceFunction,
    ToolChoiceMcp,
    TracingConfiguration,
)


def session(**fields: Any) -> RealtimeSession:
    return RealtimeSession.model_validate(fields)


def wire(model: RealtimeSession | SessionUpdate) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(model.model_dump_json(exclude_unset=True))
    return result


def test_full_session_round_trips() -> None:
    raw: dict[str, Any] = {
        "type": "realtime",
        "instructions": "Be brief.",
        "model": "gpt-realtime-2",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-transcribe", "language": "en", "prompt": "names"},
                "turn_detection": {"type": "semantic_vad", "eagerness": "high", "create_response": True},
                "noise_reduction": {"type": "far_field", "strength": 0.5},
            },
            "output": {"format": {"type": "audio/pcma"}, "voice": {"id": "voice_123"}, "speed": 1.25},
        },
        "tool_choice": {"type": "mcp", "server_label": "crm", "name": "find"},
        "tools": [
            {
                "type": "mcp",
                "server_label": "crm",
                "server_url": "https://mcp.example.com",
                "require_approval": "never",
            },
            {
                "type": "mcp",
                "server_label": "cal",
                "connector_id": "connector_googlecalendar",
                "allowed_tools": {"tool_names": ["list"], "read_only": True},
                "require_approval": {"always": {"tool_names": ["delete"]}, "never": {"read_only": True}},
            },
            {"type": "mcp", "server_label": "t", "tunnel_id": "tun_1", "allowed_tools": ["a", "b"]},
        ],
        "output_modalities": ["audio"],
        "max_output_tokens": "inf",
        "prompt": {"id": "pmpt_1", "version": "3", "variables": {"city": "Denver"}},
        "tracing": {"workflow_name": "support", "group_id": "g", "metadata": {"k": "v"}},
        "truncation": {"type": "retention_ratio", "retention_ratio": 0.8, "token_limits": {"post_instructions": 1000}},
        "include": ["item.input_audio_transcription.logprobs"],
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low"},
    }
    parsed = session(**raw)
    assert wire(parsed) == raw
    assert parsed.audio is not None and parsed.audio.input is not None and parsed.audio.output is not None
    assert isinstance(parsed.audio.input.format, PcmFormat)
    assert isinstance(parsed.audio.input.turn_detection, SemanticVad)
    assert isinstance(parsed.audio.input.transcription, AudioTranscription)
    assert isinstance(parsed.audio.input.noise_reduction, NoiseReduction)
    assert isinstance(parsed.audio.output.format, PcmaFormat)
    assert parsed.audio.output.voice == CustomVoice(id="voice_123")
    assert isinstance(parsed.tool_choice, ToolChoiceMcp)
    assert parsed.tools is not None and all(isinstance(tool, McpTool) for tool in parsed.tools)
    first, second, third = parsed.tools
    assert isinstance(second, McpTool) and isinstance(second.allowed_tools, McpToolFilter)
    assert isinstance(second.require_approval, McpApprovalFilter)
    assert isinstance(third, McpTool) and third.allowed_tools == ["a", "b"]
    assert isinstance(parsed.prompt, Prompt)
    assert isinstance(parsed.tracing, TracingConfiguration)
    assert isinstance(parsed.truncation, RetentionRatioTruncation)


@pytest.mark.parametrize("mode", ["auto", "none", "required"])
def test_tool_choice_modes(mode: str) -> None:
    assert session(tool_choice=mode).tool_choice == mode


def test_tool_choice_function() -> None:
    parsed = session(tool_choice={"type": "function", "name": "lookup"})
    assert parsed.tool_choice == ToolChoiceFunction(name="lookup")
    assert wire(RealtimeSession(tool_choice=ToolChoiceFunction(name="lookup"))) == {
        "type": "realtime",
        "tool_choice": {"type": "function", "name": "lookup"},
    }


def test_tool_choice_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValidationError) as info:
        session(tool_choice="any")
    assert "'auto', 'none' or 'required'" in str(info.value)


@pytest.mark.parametrize("value", ["auto", "disabled"])
def test_truncation_modes(value: str) -> None:
    assert session(truncation=value).truncation == value


def test_tracing_auto_and_none() -> None:
    assert session(tracing="auto").tracing == "auto"
    disabled = session(tracing=None)
    assert wire(disabled) == {"type": "realtime", "tracing": None}


def test_turn_detection_none_means_manual_turns() -> None:
    parsed = session(audio={"input": {"turn_detection": None, "transcription": None}})
    assert wire(parsed)["audio"] == {"input": {"turn_detection": None, "transcription": None}}


@pytest.mark.parametrize("tokens", [1, 4096])
def test_max_output_tokens_bounds(tokens: int) -> None:
    assert session(max_output_tokens=tokens).max_output_tokens == tokens


@pytest.mark.parametrize("tokens", [0, 4097, "infinite"])
def test_max_output_tokens_out_of_range(tokens: object) -> None:
    with pytest.raises(ValidationError, match="max_output_tokens"):
        session(max_output_tokens=tokens)


def test_threshold_of_two_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        session(audio={"input": {"turn_detection": {"type": "server_vad", "threshold": 2}}})
    message = str(info.value)
    assert "audio.input.turn_detection.server_vad.threshold" in message
    assert "less than or equal to 1" in message
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        ServerVad(threshold=-0.1)


@pytest.mark.parametrize("speed", [0.2, 1.6])
def test_speed_outside_range_is_rejected(speed: float) -> None:
    with pytest.raises(ValidationError, match="speed"):
        AudioOutput(speed=speed)


@pytest.mark.parametrize("speed", [0.25, 1.0, 1.5])
def test_speed_inside_range(speed: float) -> None:
    assert AudioOutput(speed=speed).speed == speed


def test_pcm_rate_is_24000_only() -> None:
    assert PcmFormat().rate == 24000
    with pytest.raises(ValidationError, match="Input should be 24000"):
        session(audio={"output": {"format": {"type": "audio/pcm", "rate": 8000}}})


def test_eagerness_literals() -> None:
    for eagerness in ("low", "medium", "high", "auto"):
        assert SemanticVad.model_validate({"eagerness": eagerness}).eagerness == eagerness
    with pytest.raises(ValidationError, match="eagerness"):
        SemanticVad.model_validate({"eagerness": "eager"})


def test_noise_reduction_type_literals() -> None:
    assert NoiseReduction(type="near_field").type == "near_field"
    with pytest.raises(ValidationError, match="'near_field' or 'far_field'"):
        NoiseReduction.model_validate({"type": "loud_room"})


@pytest.mark.parametrize("ratio", [-0.1, 1.1])
def test_retention_ratio_outside_range_is_rejected(ratio: float) -> None:
    with pytest.raises(ValidationError, match="retention_ratio"):
        session(truncation={"type": "retention_ratio", "retention_ratio": ratio})


def test_output_modalities_are_text_or_audio() -> None:
    with pytest.raises(ValidationError, match="output_modalities"):
        session(output_modalities=["video"])


def test_open_string_sets_accept_any_value() -> None:
    parsed = session(
        model="gpt-realtime-9",
        audio={"input": {"transcription": {"model": "whisper-7"}}, "output": {"voice": "brand-new-voice"}},
    )
    assert parsed.model == "gpt-realtime-9"
    assert wire(parsed)["audio"]["output"]["voice"] == "brand-new-voice"


def test_tool_name_with_spaces_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        FunctionTool(name="look up")
    message = str(info.value)
    assert "invalid tool name 'look up'" in message
    assert "' '" in message
    assert "1 to 64 letters, digits, '_' or '-'" in message


@pytest.mark.parametrize("name", ["", "x" * 65])
def test_tool_name_length_is_checked(name: str) -> None:
    with pytest.raises(ValidationError, match=f"it has {len(name)} characters"):
        FunctionTool(name=name)


def test_tool_name_inside_a_session_is_checked() -> None:
    with pytest.raises(ValidationError) as info:
        session(tools=[{"type": "function", "name": "lookup.phone"}])
    assert "tools.0.function.name" in str(info.value)
    assert "'.'" in str(info.value)


def test_tool_choice_function_name_is_checked() -> None:
    with pytest.raises(ValidationError, match="invalid tool name"):
        ToolChoiceFunction(name="no spaces please")


def test_valid_tool_names() -> None:
    for name in ("a", "lookup_name_or_phone", "end-call", "X" * 64):
        assert FunctionTool(name=name).name == name


def test_tool_without_type_is_a_function() -> None:
    parsed = session(tools=[{"name": "lookup", "parameters": {"type": "object", "properties": {}}}])
    assert parsed.tools is not None and isinstance(parsed.tools[0], FunctionTool)
    assert wire(parsed)["tools"][0]["type"] == "function"


def test_function_tool_defaults_to_an_empty_object_schema() -> None:
    tool = FunctionTool(name="ping")
    assert tool.parameters == {"type": "object", "properties": {}}
    assert tool.model_dump(exclude_unset=True) == {"name": "ping", "type": "function"}


def test_mcp_tool_needs_a_server() -> None:
    with pytest.raises(ValidationError) as info:
        McpTool(server_label="crm")
    assert "MCP tool 'crm' needs one of server_url, connector_id or tunnel_id" in str(info.value)
    with pytest.raises(ValidationError, match="server_label"):
        McpTool.model_validate({"server_url": "https://mcp.example.com"})


def test_mcp_credentials_stay_out_of_repr() -> None:
    tool = McpTool(server_label="crm", server_url="https://x", authorization="tok-123", headers={"X-Key": "k-456"})
    assert "tok-123" not in repr(tool) and "k-456" not in repr(tool)


def test_unknown_tool_type_passes_through_as_a_dict() -> None:
    future = {"type": "web_search", "filters": {"domains": ["example.com"]}}
    parsed = session(tools=[future, {"type": "function", "name": "lookup"}])
    assert parsed.tools is not None
    assert parsed.tools[0] == future
    assert isinstance(parsed.tools[1], FunctionTool)
    assert wire(parsed)["tools"][0] == future


def test_unknown_turn_detection_and_format_pass_through_as_dicts() -> None:
    raw = {
        "input": {
            "format": {"type": "audio/opus", "rate": 48000},
            "turn_detection": {"type": "hybrid_vad", "level": 3},
        }
    }
    parsed = session(audio=raw)
    assert parsed.audio is not None and parsed.audio.input is not None
    assert parsed.audio.input.turn_detection == {"type": "hybrid_vad", "level": 3}
    assert wire(parsed)["audio"] == raw


def test_unknown_tool_choice_and_truncation_objects_pass_through() -> None:
    raw = {"tool_choice": {"type": "web_search"}, "truncation": {"type": "sliding_window", "turns": 5}}
    assert wire(session(**raw)) == {"type": "realtime", **raw}


def test_unknown_fields_pass_through_at_every_level() -> None:
    raw: dict[str, Any] = {
        "type": "realtime",
        "future_option": {"a": 1},
        "audio": {
            "future_audio": True,
            "input": {
                "format": {"type": "audio/pcmu", "future_format_field": 1},
                "turn_detection": {"type": "server_vad", "future_vad_field": "x"},
                "transcription": {"model": "whisper-1", "languages": ["en", "es"], "keywords": ["VNS"]},
            },
            "output": {"voice": "marin", "future_output_field": [1]},
        },
        "tools": [{"type": "function", "name": "t", "strict": True}],
    }
    assert wire(session(**raw)) == raw
    update = SessionUpdate.model_validate({"type": "session.update", "session": raw, "future_event_field": 1})
    assert wire(update) == {"type": "session.update", "session": raw, "future_event_field": 1}


def test_tags_are_dumped_even_when_left_to_their_defaults() -> None:
    built = RealtimeSession(
        audio=RealtimeAudio(
            input=AudioInput(format=PcmuFormat(), turn_detection=ServerVad(threshold=0.6)),
            output=AudioOutput(format=PcmuFormat(), voice="alloy"),
        ),
        tools=[FunctionTool(name="lookup")],
    )
    assert wire(built) == {
        "type": "realtime",
        "audio": {
            "input": {"format": {"type": "audio/pcmu"}, "turn_detection": {"type": "server_vad", "threshold": 0.6}},
            "output": {"format": {"type": "audio/pcmu"}, "voice": "alloy"},
        },
        "tools": [{"name": "lookup", "type": "function"}],
    }
    assert wire(SessionUpdate(session=RealtimeSession())) == {"type": "session.update", "session": {"type": "realtime"}}
    # An optional tag without a default is not invented.
    assert NoiseReduction().model_dump(exclude_unset=True) == {}


def test_changes_are_validated_and_sent() -> None:
    parsed = session(instructions="Be brief.")
    parsed.instructions = (parsed.instructions or "") + " The caller is Jane."
    parsed.tools = [{"type": "function", "name": "lookup"}]
    assert isinstance(parsed.tools[0], FunctionTool)
    assert wire(parsed) == {
        "type": "realtime",
        "instructions": "Be brief. The caller is Jane.",
        "tools": [{"type": "function", "name": "lookup"}],
    }
    with pytest.raises(ValidationError, match="less than or equal to 1.5"):
        AudioOutput().speed = 3


def test_deep_copy_keeps_what_was_set() -> None:
    parsed = session(instructions="x", tools=[{"name": "a"}])
    copied = parsed.model_copy(deep=True)
    assert wire(copied) == wire(parsed)
    assert copy.deepcopy(parsed) == parsed


def test_session_json_schema_names_the_unions() -> None:
    schema = RealtimeSession.model_json_schema()
    assert {"RealtimeTool", "ToolChoice", "AudioFormat", "TurnDetection", "Truncation"} <= set(schema["$defs"])
    assert schema["$defs"]["FunctionTool"]["properties"]["name"]["pattern"] == "^[a-zA-Z0-9_-]{1,64}$"
