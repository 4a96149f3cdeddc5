"""A function the model called, sent to the app exactly as VNS sends it, and what the model hears back.

The request is the simulator's own (`AsyncSimulatedCall.invoke_raw`): the CallStart answer's
``defaultToolsUrlBase`` URL and headers, the ``defaultToolsUrlAdapter`` form, the ``VoiceElements_InvokeTool``
wrapper when there is no adapter. VNS feeds the tool endpoint's answer to the model; what it does with an
HTTP error or a body that is not JSON is not documented, so the bridge passes those on as they came
(the worst case) and says so on the screen.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from vns_sdk.realtime._events import ToolCall

if TYPE_CHECKING:
    from vns_sdk.testing._call import AsyncSimulatedCall

__all__ = ["parse_arguments", "relay"]

_NOT_AN_OBJECT = json.dumps(
    {"error": "invalid_arguments", "message": "The arguments were not a JSON object. Call the function again."}
)
_SERVER_ERROR = "Internal Server Error"
_UNREACHABLE = json.dumps(
    {"error": "tool_unreachable", "message": "The tool could not be reached. Tell the caller to try again later."}
)


def parse_arguments(text: str) -> dict[str, Any] | None:
    """The model's arguments as an object, or None when its text is not a JSON object."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def relay(vns_call: AsyncSimulatedCall, call: ToolCall) -> None:
    """POST the tool request as VNS would and fill in `call`: status, reply, output, problem, timings."""
    import httpx

    if call.arguments is None:
        # Nothing to put beside the wrapper: the model hears why, as from an app that rejects them.
        call.skipped = "the model's arguments are not a JSON object"
        call.problem = f"the model's arguments are not a JSON object ({_short(call.raw_arguments)}): not sent"
        call.output = _NOT_AN_OBJECT
        return
    try:
        response = await vns_call.invoke_raw(call.name, call.arguments)
    except httpx.HTTPError as exc:
        call.problem = f"the tool endpoint could not be reached: {type(exc).__name__}: {exc}"
        call.output = _UNREACHABLE
        return
    except Exception as exc:  # an app in process that lets an exception out: a server would answer a 500
        call.ran, call.status, call.output = True, 500, _SERVER_ERROR
        call.reply = _SERVER_ERROR
        call.problem = (
            f"the app raised {type(exc).__name__}: {exc}; served, it answers HTTP 500 {_SERVER_ERROR}, "
            "which the model heard"
        )
        return
    exchange = vns_call.exchanges[-1]
    call.ran = True
    call.status = response.status_code
    call.path = exchange.path
    call.tool_ms = exchange.elapsed_ms
    call.reply = exchange.response_body  # keys and tokens redacted, as everywhere the call is shown
    call.output = response.text
    if response.status_code != 200:
        call.problem = (
            f"the tool endpoint answered HTTP {response.status_code}; what VNS passes on for an HTTP error is not "
            "documented: the model heard the body as it came"
        )
        return
    try:
        body = response.json()
    except ValueError:
        call.problem = "the tool endpoint answered a 200 that is not JSON: the model heard it as it came"
        return
    if not isinstance(body, dict):
        call.problem = (
            f"the tool endpoint answered JSON that is not an object ({type(body).__name__}): "
            "the model heard it as it came"
        )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
