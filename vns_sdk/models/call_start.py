"""The CallStart webhook: what VNS sends when a call begins, and the answer that runs the call."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from vns_sdk.models._base import Flag, RealtimeModel, SessionGuid, VNSModel
from vns_sdk.models.session import SessionUpdate
from vns_sdk.models.timestamps import DotNetTimestamp
from vns_sdk.models.tool_call import ToolsUrlAdapter

__all__ = ["CallStartRequest", "CallStartResponse", "EndpointConfig", "VoiceElementsInstructions"]


class CallStartRequest(VNSModel):
    """The CallStart webhook body: VNS POSTs it to your CallStart URL when a call begins.

    For an outbound call placed through the VNS API, `outbound_triggered` is true and `customer_call_id`
    is the identifier given when dialling.

    Attributes:
        session_guid: Unique identifier of the voice session (wire `sessionGuid`).
        called_number: The DID that received the call (the dialled number for an outbound call).
        caller_id: The originating phone number.
        caller_id_name: The caller's display name, when available.
        outbound_triggered: Whether the call was initiated as an outbound VNS session.
        software_version: Voice Nexus software version of the current runtime.
        call_start: UTC time at which the call began.
        customer_call_id: Your optional identifier of the call.
    """

    session_guid: SessionGuid
    called_number: str | None = None
    caller_id: str | None = None
    caller_id_name: str | None = None
    outbound_triggered: Flag = False
    software_version: str | None = None
    call_start: DotNetTimestamp | None = None
    customer_call_id: str | None = None


class EndpointConfig(VNSModel):
    """A URL VNS connects to, with the HTTP headers it must send there.

    Used for the OpenAI Realtime URL (`aiUrl`) and for the base URL of your tools (`defaultToolsUrlBase`).
    The headers carry credentials, so they are left out of the model's `repr`.

    Attributes:
        url: The URL, e.g. ``wss://api.openai.com/v1/realtime?model=gpt-realtime``.
        headers: Headers to send, e.g. ``{"Authorization": "Bearer ..."}``.
    """

    url: str
    headers: dict[str, str] = Field(default_factory=dict, repr=False)


def _adapter_text(value: Any) -> Any:
    return str(value) if isinstance(value, ToolsUrlAdapter) else value


def _check_adapter(value: str | None) -> str | None:
    if value is not None:
        ToolsUrlAdapter(value)  # raises ValueError with a readable message
    return value


# A template string on the wire; a ToolsUrlAdapter is accepted too, and every template is checked.
_AdapterTemplate = Annotated[str | None, BeforeValidator(_adapter_text), AfterValidator(_check_adapter)]


class VoiceElementsInstructions(VNSModel):
    """How Voice Elements runs the call: the `VoiceElements_Instructions` part of the CallStart answer.

    Attributes:
        ai_url: The OpenAI Realtime URL (with ``?model=``) and the headers that authenticate it, which
            name the OpenAI account billed for the call.
        max_seconds: The longest the call may stay connected, in seconds.
        customer_call_id: Your identifier of the call, carried into tool calls and the CallEnd webhook.
        default_tools_url_base: Where VNS sends tool calls, and the headers it sends with them.
        default_tools_url_adapter: How VNS adds the tool name, session and call id to the tools URL
            (one of the forms in `ToolsUrlAdapter.FORMS`, or a `ToolsUrlAdapter`); ``None`` puts them in
            the body's `VoiceElements_InvokeTool` wrapper instead.
    """

    ai_url: EndpointConfig
    max_seconds: int = Field(ge=1)
    customer_call_id: str | None = None
    default_tools_url_base: EndpointConfig
    default_tools_url_adapter: _AdapterTemplate = None


class _InstructionsPart(RealtimeModel):
    # Listed before SessionUpdate's fields (see CallStartResponse), so it comes first on the wire.
    voice_elements_instructions: VoiceElementsInstructions = Field(alias="VoiceElements_Instructions")


class CallStartResponse(SessionUpdate, _InstructionsPart):
    """The answer to the CallStart webhook: call instructions for VNS beside the OpenAI `session.update` event.

    VNS keeps `VoiceElements_Instructions` for itself and sends the rest (`event_id`, `type`, `session`)
    to OpenAI to configure the Realtime session. On the wire `VoiceElements_Instructions` comes first.

    Attributes:
        voice_elements_instructions: The instructions for VNS (wire `VoiceElements_Instructions`).
    """

    # pydantic orders fields by the reversed MRO: _InstructionsPart's field precedes SessionUpdate's.
