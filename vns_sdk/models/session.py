"""The OpenAI Realtime session VNS opens for a call, and the `session.update` event that carries it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag
from typing_extensions import TypeAliasType

from vns_sdk.models._base import OTHER_TAG, RealtimeModel, type_tag
from vns_sdk.models.audio import RealtimeAudio
from vns_sdk.models.realtime_tools import RealtimeTool, ToolChoice

__all__ = [
    "Prompt",
    "Reasoning",
    "RealtimeSession",
    "RetentionRatioTruncation",
    "SessionUpdate",
    "TokenLimits",
    "TracingConfiguration",
    "Truncation",
]


class Prompt(RealtimeModel):
    """A reference to a stored prompt template.

    Attributes:
        id: The prompt's identifier.
        version: The prompt's version; the current one when unset.
        variables: Values substituted into the template (strings or input content objects).
    """

    id: str
    version: str | None = None
    variables: dict[str, Any] | None = None


class TracingConfiguration(RealtimeModel):
    """Tracing of the session in the OpenAI traces dashboard (it cannot change once enabled).

    Attributes:
        workflow_name: Name of the workflow the traces belong to.
        group_id: Identifier grouping related traces.
        metadata: Arbitrary metadata attached to the traces.
    """

    workflow_name: str | None = None
    group_id: str | None = None
    metadata: dict[str, Any] | None = None


class TokenLimits(RealtimeModel):
    """Token limits that trigger truncation of the conversation.

    Attributes:
        post_instructions: Most tokens kept after the instructions.
    """

    post_instructions: int | None = Field(default=None, ge=0)


class RetentionRatioTruncation(RealtimeModel):
    """Truncate the conversation to a fraction of the context window when it fills up.

    Attributes:
        retention_ratio: The fraction of the conversation kept, 0 to 1.
        token_limits: Token limits that trigger truncation.
    """

    type: Literal["retention_ratio"] = "retention_ratio"
    retention_ratio: float = Field(ge=0, le=1)
    token_limits: TokenLimits | None = None


_truncation_type = type_tag(frozenset({"retention_ratio"}))


def _truncation_tag(value: Any) -> str:
    # A string is one of the modes; an object is chosen by its `type`.
    return _truncation_type(value) if isinstance(value, (dict, RealtimeModel)) else "mode"


Truncation = TypeAliasType(
    "Truncation",
    Annotated[
        Annotated[Literal["auto", "disabled"], Tag("mode")]
        | Annotated[RetentionRatioTruncation, Tag("retention_ratio")]
        | Annotated[dict[str, Any], Tag(OTHER_TAG)],
        Discriminator(_truncation_tag),
    ],
)
"""``"auto"``, ``"disabled"`` or a `RetentionRatioTruncation`."""


class Reasoning(RealtimeModel):
    """Reasoning settings (reasoning models only).

    Attributes:
        effort: How hard the model thinks, e.g. ``low`` or ``high``.
    """

    effort: str | None = None


class RealtimeSession(RealtimeModel):
    """The OpenAI Realtime session configuration (GA API) that VNS applies to a call.

    It is the `session` of the `session.update` event in the CallStart answer. Only the fields you set
    are sent; fields this release does not know are kept and passed through to OpenAI.

    Attributes:
        type: Always ``realtime``.
        instructions: The system instructions: who the agent is and how it behaves.
        model: The Realtime model, e.g. ``gpt-realtime`` (any string is accepted).
        audio: Audio formats, transcription, turn detection and voice.
        tool_choice: How the model chooses tools: ``auto``, ``none``, ``required`` or a given tool.
        tools: Tools the model may call: `FunctionTool` and `McpTool` (unknown kinds stay dicts).
        output_modalities: ``["audio"]`` (speech with a transcript) or ``["text"]``.
        max_output_tokens: Most tokens in one answer, 1 to 4096, or ``"inf"``.
        prompt: A stored prompt template to use.
        tracing: ``"auto"``, a tracing configuration, or ``None`` to disable tracing.
        truncation: How the conversation is truncated when the context fills up.
        include: Extra output to include, e.g. ``item.input_audio_transcription.logprobs``.
        parallel_tool_calls: Whether the model may call several tools at once (reasoning models).
        reasoning: Reasoning settings (reasoning models).
    """

    type: Literal["realtime"] = "realtime"
    instructions: str | None = None
    model: str | None = None
    audio: RealtimeAudio | None = None
    tool_choice: ToolChoice | None = None
    tools: list[RealtimeTool] | None = None
    output_modalities: list[Literal["text", "audio"]] | None = None
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] | None = None
    prompt: Prompt | None = None
    tracing: Literal["auto"] | TracingConfiguration | None = None
    truncation: Truncation | None = None
    include: list[str] | None = None
    parallel_tool_calls: bool | None = None
    reasoning: Reasoning | None = None


class SessionUpdate(RealtimeModel):
    """The OpenAI `session.update` client event that configures the Realtime session.

    Attributes:
        event_id: Optional identifier of the event (OpenAI echoes it in errors).
        type: Always ``session.update``.
        session: The session configuration.
    """

    event_id: str | None = None
    type: Literal["session.update"] = "session.update"
    session: RealtimeSession
