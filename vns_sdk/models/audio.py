"""The audio part of the OpenAI Realtime session: formats, transcription, turn detection, voice."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag
from typing_extensions import TypeAliasType

from vns_sdk.models._base import OTHER_TAG, RealtimeModel, type_tag

__all__ = [
    "AudioFormat",
    "AudioInput",
    "AudioOutput",
    "AudioTranscription",
    "CustomVoice",
    "NoiseReduction",
    "PcmFormat",
    "PcmaFormat",
    "PcmuFormat",
    "RealtimeAudio",
    "SemanticVad",
    "ServerVad",
    "TurnDetection",
]


class PcmuFormat(RealtimeModel):
    """G.711 µ-law audio (8 kHz), the telephone format VNS uses by default: ``{"type": "audio/pcmu"}``."""

    type: Literal["audio/pcmu"] = "audio/pcmu"


class PcmaFormat(RealtimeModel):
    """G.711 A-law audio (8 kHz): ``{"type": "audio/pcma"}``."""

    type: Literal["audio/pcma"] = "audio/pcma"


class PcmFormat(RealtimeModel):
    """16-bit little-endian mono PCM. OpenAI accepts only a 24 kHz rate.

    Attributes:
        rate: The sample rate; 24000 is the only value allowed.
    """

    type: Literal["audio/pcm"] = "audio/pcm"
    rate: Literal[24000] = 24000


AudioFormat = TypeAliasType(
    "AudioFormat",
    Annotated[
        Annotated[PcmuFormat, Tag("audio/pcmu")]
        | Annotated[PcmaFormat, Tag("audio/pcma")]
        | Annotated[PcmFormat, Tag("audio/pcm")]
        | Annotated[dict[str, Any], Tag(OTHER_TAG)],
        Discriminator(type_tag(frozenset({"audio/pcmu", "audio/pcma", "audio/pcm"}))),
    ],
)
"""An audio format, chosen by its `type`; a format this release does not know stays a plain dict."""


class AudioTranscription(RealtimeModel):
    """Transcription of the caller's audio (off unless set). Model names are open: any string is accepted.

    Attributes:
        model: Transcription model, e.g. ``whisper-1`` or ``gpt-4o-transcribe``.
        language: ISO-639-1 language of the input audio, e.g. ``en``.
        prompt: Text that guides the transcription (vocabulary, style).
        languages: Languages the caller may speak (some models only).
        keywords: Words to recognise reliably, such as names (some models only).
        delay: How long the transcription may wait for context, e.g. ``low`` (some models only).
    """

    model: str | None = None
    language: str | None = None
    prompt: str | None = None
    languages: list[str] | None = None
    keywords: list[str] | None = None
    delay: str | None = None


class NoiseReduction(RealtimeModel):
    """Noise reduction of the input audio; ``None`` in the session turns it off.

    Attributes:
        type: ``near_field`` for headsets and close microphones, ``far_field`` for room microphones.
        strength: How strongly to reduce noise.
    """

    type: Literal["near_field", "far_field"] | None = None
    strength: float | None = None


class ServerVad(RealtimeModel):
    """Server voice activity detection: a turn ends after a set amount of silence.

    Attributes:
        threshold: Activation threshold, 0 to 1 (higher needs louder audio); OpenAI's default is 0.5.
        prefix_padding_ms: Audio kept before detected speech, in milliseconds.
        silence_duration_ms: Silence that ends a turn, in milliseconds.
        create_response: Whether the model answers automatically when a turn ends.
        interrupt_response: Whether the caller's speech interrupts the model's answer.
        idle_timeout_ms: Silence after which the model is prompted to speak, in milliseconds.
    """

    type: Literal["server_vad"] = "server_vad"
    threshold: float | None = Field(default=None, ge=0, le=1)
    prefix_padding_ms: int | None = Field(default=None, ge=0)
    silence_duration_ms: int | None = Field(default=None, ge=0)
    create_response: bool | None = None
    interrupt_response: bool | None = None
    idle_timeout_ms: int | None = Field(default=None, ge=0)


class SemanticVad(RealtimeModel):
    """Semantic voice activity detection: a model judges from the words whether the caller has finished.

    Attributes:
        eagerness: How soon to answer: ``low`` waits longest (up to 8 s), ``high`` shortest (2 s);
            ``auto`` is ``medium``.
        create_response: Whether the model answers automatically when a turn ends.
        interrupt_response: Whether the caller's speech interrupts the model's answer.
    """

    type: Literal["semantic_vad"] = "semantic_vad"
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


TurnDetection = TypeAliasType(
    "TurnDetection",
    Annotated[
        Annotated[ServerVad, Tag("server_vad")]
        | Annotated[SemanticVad, Tag("semantic_vad")]
        | Annotated[dict[str, Any], Tag(OTHER_TAG)],
        Discriminator(type_tag(frozenset({"server_vad", "semantic_vad"}))),
    ],
)
"""Turn detection, chosen by its `type`; a kind this release does not know stays a plain dict."""


class AudioInput(RealtimeModel):
    """The caller's side of the audio.

    Attributes:
        format: Format of the audio VNS streams to OpenAI (``audio/pcmu`` on a phone line).
        transcription: Transcription of the caller's speech; ``None`` turns it off.
        turn_detection: How the end of the caller's turn is detected; ``None`` means manual turns.
        noise_reduction: Noise reduction; ``None`` turns it off.
    """

    format: AudioFormat | None = None
    transcription: AudioTranscription | None = None
    turn_detection: TurnDetection | None = None
    noise_reduction: NoiseReduction | None = None


class CustomVoice(RealtimeModel):
    """A custom voice, by its identifier.

    Attributes:
        id: The voice's identifier, e.g. ``voice_...``.
    """

    id: str


class AudioOutput(RealtimeModel):
    """The model's side of the audio.

    Attributes:
        format: Format of the audio OpenAI sends back (``audio/pcmu`` on a phone line).
        voice: A voice name (``alloy``, ``marin``, ``cedar``...; any string is accepted) or a custom voice.
            It cannot change once the model has spoken.
        speed: Speaking speed, 0.25 to 1.5 (1.0 is normal).
    """

    format: AudioFormat | None = None
    voice: str | CustomVoice | None = None
    speed: float | None = Field(default=None, ge=0.25, le=1.5)


class RealtimeAudio(RealtimeModel):
    """The audio configuration of the session.

    Attributes:
        input: The caller's audio.
        output: The model's audio.
    """

    input: AudioInput | None = None
    output: AudioOutput | None = None
