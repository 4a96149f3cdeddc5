"""Typed wire models of Voice Nexus Service and of the OpenAI Realtime session it configures.

- CallStart: `CallStartRequest` in, `CallStartResponse` (`VoiceElementsInstructions` + `SessionUpdate`) out.
- The session: `RealtimeSession` and its parts (audio, turn detection, tools, tool choice, ...).
- Tool calls: `ToolInvocation` in, with `VoiceElementsInvokeTool`; `ToolsUrlAdapter` for the URL forms.
- CallEnd: `CallEndRequest` in, `CallEndResponse` out.
- Outbound: `OutboundCallRequest` out to the VNS API, `OutboundCallResponse` back.

VNS payloads are camelCase on the wire and snake_case in Python (both accepted on input); the session
is snake_case, as OpenAI spells it. Every model keeps unknown fields and dumps them back.
"""

from __future__ import annotations

from vns_sdk.models._base import RealtimeModel, VNSModel
from vns_sdk.models.audio import (
    AudioFormat,
    AudioInput,
    AudioOutput,
    AudioTranscription,
    CustomVoice,
    NoiseReduction,
    PcmaFormat,
    PcmFormat,
    PcmuFormat,
    RealtimeAudio,
    SemanticVad,
    ServerVad,
    TurnDetection,
)
from vns_sdk.models.call_end import CallEndRequest, CallEndResponse
from vns_sdk.models.call_start import CallStartRequest, CallStartResponse, EndpointConfig, VoiceElementsInstructions
from vns_sdk.models.outbound import OutboundCallRequest, OutboundCallResponse
from vns_sdk.models.realtime_tools import (
    FunctionTool,
    McpApprovalFilter,
    McpTool,
    McpToolFilter,
    RealtimeTool,
    ToolChoice,
    ToolChoiceFunction,
    ToolChoiceMcp,
    check_tool_name,
)
from vns_sdk.models.session import (
    Prompt,
    RealtimeSession,
    Reasoning,
    RetentionRatioTruncation,
    SessionUpdate,
    TokenLimits,
    TracingConfiguration,
    Truncation,
)
from vns_sdk.models.timestamps import DotNetDateTime, DotNetTimestamp, format_dotnet, parse_dotnet
from vns_sdk.models.tool_call import ToolInvocation, ToolsUrlAdapter, VoiceElementsInvokeTool, vns_tool_request

__all__ = [
    "AudioFormat",
    "AudioInput",
    "AudioOutput",
    "AudioTranscription",
    "CallEndRequest",
    "CallEndResponse",
    "CallStartRequest",
    "CallStartResponse",
    "CustomVoice",
    "DotNetDateTime",
    "DotNetTimestamp",
    "EndpointConfig",
    "FunctionTool",
    "McpApprovalFilter",
    "McpTool",
    "McpToolFilter",
    "NoiseReduction",
    "OutboundCallRequest",
    "OutboundCallResponse",
    "PcmFormat",
    "PcmaFormat",
    "PcmuFormat",
    "Prompt",
    "RealtimeAudio",
    "RealtimeModel",
    "RealtimeSession",
    "RealtimeTool",
    "Reasoning",
    "RetentionRatioTruncation",
    "SemanticVad",
    "ServerVad",
    "SessionUpdate",
    "TokenLimits",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMcp",
    "ToolInvocation",
    "ToolsUrlAdapter",
    "TracingConfiguration",
    "Truncation",
    "TurnDetection",
    "VNSModel",
    "VoiceElementsInstructions",
    "VoiceElementsInvokeTool",
    "check_tool_name",
    "format_dotnet",
    "parse_dotnet",
    "vns_tool_request",
]
