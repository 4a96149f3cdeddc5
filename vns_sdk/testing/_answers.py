"""What the simulator makes of each answer: the value VNS would use, or a `SimulationError` that says why not.

Failure messages show what was sent and what came back, never the keys and tokens in them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from vns_sdk._redaction import redact, redact_text
from vns_sdk.exceptions import SimulationError
from vns_sdk.testing._checks import call_start_problems, excerpt, json_body, parse_call_start

if TYPE_CHECKING:
    from vns_sdk.models import CallStartResponse

__all__ = ["call_end_answer", "call_start_answer", "json_text", "tool_reply"]

# Tool-call replies the SDK's app answers when its own parts disagree; never what a test wants.
_DISAGREEMENTS = {
    "invalid_arguments": "its handler rejected arguments that the tool's declared schema accepts, so the schema the "
    "model sees no longer matches the function",
    "unknown_tool": "the app offered this tool at CallStart but does not know it when called",
}


def call_start_answer(
    response: httpx.Response, path: str, *, sent_credentials: bool, validate: bool
) -> CallStartResponse:
    """The CallStart answer, parsed, if VNS could run the call with it.

    Args:
        response: The app's answer.
        path: The path CallStart was sent to (for the message).
        sent_credentials: Whether the simulator presented a webhook token.
        validate: Also check what VNS or OpenAI would choke on in an answer that fits the wire model.

    Raises:
        SimulationError: The app refused the call, or answered something VNS cannot use.
    """
    __tracebackhide__ = True
    body, not_json = json_body(response)
    where = f"CallStart (POST {path}) was answered with HTTP {response.status_code}"
    if response.status_code in (401, 403) and not sent_credentials:
        raise SimulationError(
            f"{where}: the simulator sent no webhook token. Pass webhook_token= to VNSSimulator, "
            "or set VNS_WEBHOOK_TOKEN.\n  answer: " + _shown(response),
            status=response.status_code,
            body=redact(body),
        )
    if response.status_code != 200:
        refused = " (the app refused the call)" if response.status_code == 403 else ""
        raise SimulationError(
            f"{where}{refused}; VNS needs a 200 with the call's instructions.\n  answer: {_shown(response)}",
            status=response.status_code,
            body=redact(body),
        )
    if not_json:
        raise SimulationError(f"{where} but {not_json}.\n  answer: {_shown(response)}", status=200, body=redact(body))
    answer, problems = parse_call_start(body)
    if answer is not None and validate:
        problems = call_start_problems(answer)
    if problems or answer is None:
        raise SimulationError(
            "The CallStart answer is not one VNS can use:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + f"\n  answer: {_shown(response, 1500)}",
            status=200,
            body=redact(body),
        )
    return answer


def tool_reply(
    response: httpx.Response,
    tool: str,
    arguments: Mapping[str, Any],
    schema: Any,
    *,
    validate: bool,
) -> dict[str, Any]:
    """The JSON object the model hears for a tool call, if VNS would feed it one.

    Args:
        response: The app's answer.
        tool: The tool called.
        arguments: The arguments sent.
        schema: The tool's declared parameters (for the message).
        validate: Also refuse the replies that show the app's schema and handler disagree.

    Raises:
        SimulationError: The answer is not a 200 with a JSON object, or shows such a disagreement.
    """
    __tracebackhide__ = True
    body, not_json = json_body(response)
    sent = f"{tool}({json_text(arguments)}) -> POST {_path(str(response.request.url))}"
    if response.status_code != 200:
        raise SimulationError(
            f"Tool call {sent} was answered with HTTP {response.status_code}; the model only hears a 200 with "
            f"a JSON object.\n  answer: {_shown(response)}",
            status=response.status_code,
            body=redact(body),
        )
    if not_json or not isinstance(body, dict):
        why = not_json or f"the body is JSON but not an object ({type(body).__name__})"
        raise SimulationError(
            f"Tool call {sent} was answered, but {why}; VNS feeds the model a JSON object.\n"
            f"  answer: {_shown(response)}",
            status=200,
            body=redact(body),
        )
    disagreement = _DISAGREEMENTS.get(str(body.get("error"))) if validate else None
    if disagreement:
        raise SimulationError(
            f"Tool call {sent}: {disagreement}.\n  reply: {json_text(body)}\n  schema: {json_text(schema)}\n"
            "  (to test a reply the model is meant to hear, such as a rule the schema cannot express, "
            "use call.invoke_raw)",
            status=200,
            body=redact(body),
        )
    return body


def call_end_answer(response: httpx.Response, path: str, *, validate: bool) -> dict[str, Any]:
    """The CallEnd acknowledgement, if it is one VNS takes for a CallEnd handled.

    Args:
        response: The app's answer.
        path: The path CallEnd was sent to (for the message).
        validate: Also refuse an acknowledgement whose status is not 0.

    Raises:
        SimulationError: The answer is not a 200 with a JSON object (or, validating, its status is not 0).
    """
    __tracebackhide__ = True
    from vns_sdk.models import CallEndResponse

    answer, not_json = json_body(response)
    where = f"CallEnd (POST {path}) was answered with HTTP {response.status_code}"
    if response.status_code != 200 or not_json or not isinstance(answer, dict):
        raise SimulationError(
            f'{where}; VNS expects a 200 with {{"status": 0, "errorMessage": "Success"}}.\n'
            f"  answer: {_shown(response)}",
            status=response.status_code,
            body=redact(answer),
        )
    ack = CallEndResponse.model_validate(answer)
    if validate and ack.status != 0:
        raise SimulationError(
            f"{where} but status {ack.status} ({ack.error_message}); a CallEnd the app took in answers status 0.",
            status=200,
            body=redact(answer),
        )
    return answer


def json_text(value: Any) -> str:
    """A value as JSON for a message (its ``repr`` when it is not JSON)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _shown(response: httpx.Response, limit: int = 500) -> str:
    # What a failure message shows of an answer: never the keys and tokens in it (CallStart carries both).
    body, not_json = json_body(response)
    text = redact_text(response.text) if not_json else json.dumps(redact(body), ensure_ascii=False)
    return excerpt(text, limit)


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode("ascii", "replace")
