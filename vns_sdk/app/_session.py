"""The default Realtime session a `VNSApp` answers at CallStart, and how overrides merge into it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vns_sdk.models import RealtimeSession

__all__ = ["default_session", "merge"]

# Telephony defaults, as the VNS specification's own example shows: G.711 u-law both ways (what the phone
# network carries, so nothing is resampled), server VAD, whisper-1 transcription.
_TURN_DETECTION: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "create_response": True,
    "interrupt_response": True,
    "idle_timeout_ms": 30000,
}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``: nested objects merge, anything else replaces.

    An object whose ``type`` differs from the base's replaces it whole (``semantic_vad`` over ``server_vad``
    must not inherit ``silence_duration_ms``).
    """
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(current, Mapping)
            and value.get("type", current.get("type")) == current.get("type")
        ):
            merged[key] = merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def default_session(
    *,
    model: str,
    voice: str,
    instructions: str | None,
    override: RealtimeSession | Mapping[str, Any] | None = None,
) -> RealtimeSession:
    """The session every call starts from (tools excluded: they are added per call from the registry).

    Args:
        model: The Realtime model.
        voice: The output voice.
        instructions: The agent's instructions (left out when ``None``).
        override: A `RealtimeSession` (its explicitly set fields) or a dict, merged over the defaults.
    """
    from vns_sdk.models import RealtimeSession

    base: dict[str, Any] = {"type": "realtime", "model": model}
    if instructions is not None:
        base["instructions"] = instructions
    base["audio"] = {
        "input": {
            "format": {"type": "audio/pcmu"},
            "transcription": {"model": "whisper-1"},
            "turn_detection": dict(_TURN_DETECTION),
            "noise_reduction": None,
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": voice},
    }
    base["tool_choice"] = "auto"
    if override is not None:
        if isinstance(override, RealtimeSession):
            override = override.model_dump(mode="json", exclude_unset=True)
        base = merge(base, override)
    return RealtimeSession.model_validate(base)
