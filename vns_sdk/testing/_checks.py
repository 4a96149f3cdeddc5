"""What the simulator checks: the CallStart answer, a tool's schema, a tool call's arguments, a JSON reply.

Each check returns a list of problems (sentences), so one failure message can show them all at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

if TYPE_CHECKING:
    from pydantic import ValidationError

    from vns_sdk.models import CallStartResponse, FunctionTool, RealtimeSession

__all__ = [
    "argument_problems",
    "call_start_problems",
    "excerpt",
    "function_tools",
    "json_body",
    "parse_call_start",
    "tool_schema_problems",
    "validation_problems",
]

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def excerpt(text: str, limit: int = 500) -> str:
    """The start of a body, for an error message."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def json_body(response: httpx.Response) -> tuple[Any, str | None]:
    """The parsed JSON body of a response and ``None``, or the text and why it is not JSON."""
    try:
        return response.json(), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        content_type = response.headers.get("content-type", "no content-type")
        return response.text, f"the body is not JSON ({content_type}: {exc})"


def parse_call_start(body: Any) -> tuple[CallStartResponse | None, list[str]]:
    """Validate a CallStart answer against the wire model; return it, or the problems found."""
    from pydantic import ValidationError

    from vns_sdk.models import CallStartResponse

    if not isinstance(body, Mapping):
        return None, [f"the answer must be a JSON object, got {type(body).__name__}"]
    try:
        return CallStartResponse.model_validate(body), []
    except ValidationError as exc:
        return None, validation_problems(exc)


def validation_problems(exc: ValidationError) -> list[str]:
    """What a wire model refused, one ``where: what`` line per problem (never the value, which may be a secret)."""
    return [
        f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    ]


def call_start_problems(answer: CallStartResponse) -> list[str]:
    """What VNS or OpenAI would choke on in a CallStart answer that fits the wire model."""
    problems: list[str] = []
    instructions = answer.voice_elements_instructions
    session = answer.session
    if answer.type != "session.update":
        problems.append(f'type must be "session.update", got {answer.type!r}')
    if session.type != "realtime":
        problems.append(f'session.type must be "realtime", got {session.type!r}')

    ai_url = urlsplit(instructions.ai_url.url)
    models = parse_qs(ai_url.query).get("model")
    url_model = models[0] if models else None
    # ws:// is fine for a Realtime endpoint on this machine (a scripted model in tests), never for another host.
    local = ai_url.scheme == "ws" and (ai_url.hostname or "") in ("127.0.0.1", "localhost", "::1")
    if (ai_url.scheme != "wss" and not local) or not ai_url.netloc:
        problems.append(f"VoiceElements_Instructions.aiUrl.url must be a wss:// URL, got {instructions.ai_url.url!r}")
    elif url_model is None and ai_url.hostname == "api.openai.com":
        # Other endpoints may carry the model otherwise (Azure's ?deployment=, a gateway bound to one model).
        problems.append(
            f"VoiceElements_Instructions.aiUrl.url names no model (?model=gpt-realtime): {instructions.ai_url.url!r}"
        )
    elif url_model is not None and session.model is not None and session.model != url_model:
        problems.append(f"session.model is {session.model!r} but aiUrl.url opens model {url_model!r}")
    if instructions.max_seconds <= 0:
        problems.append(f"VoiceElements_Instructions.maxSeconds must be positive, got {instructions.max_seconds}")

    tools_url = urlsplit(instructions.default_tools_url_base.url)
    if tools_url.scheme not in ("http", "https") or not tools_url.netloc:
        problems.append(
            "VoiceElements_Instructions.defaultToolsUrlBase.url must be an absolute http(s) URL, "
            f"got {instructions.default_tools_url_base.url!r}"
        )
    if instructions.default_tools_url_adapter is not None:
        from vns_sdk.models import ToolsUrlAdapter

        try:
            ToolsUrlAdapter(instructions.default_tools_url_adapter)
        except ValueError as exc:
            problems.append(f"VoiceElements_Instructions.defaultToolsUrlAdapter is not one VNS understands: {exc}")

    seen: set[str] = set()
    for index, tool in function_tools(answer.session):
        where = f"session.tools[{index}] ({tool.name})"
        if tool.name in seen:
            problems.append(f"{where}: two tools are named {tool.name!r}; the model could not tell them apart")
        seen.add(tool.name)
        problems.extend(f"{where}: {problem}" for problem in tool_schema_problems(tool))
    return problems


def function_tools(session: RealtimeSession) -> list[tuple[int, FunctionTool]]:
    """The session's function tools (VNS calls the app for these; MCP tools are OpenAI's), with their index."""
    from vns_sdk.models import FunctionTool

    found = []
    for index, tool in enumerate(session.tools or []):
        if isinstance(tool, FunctionTool):
            found.append((index, tool))
        elif isinstance(tool, Mapping) and tool.get("type") == "function":
            found.append((index, FunctionTool.model_validate(tool)))
    return found


def tool_schema_problems(tool: FunctionTool) -> list[str]:
    """What is wrong with a function tool's name or JSON-schema ``parameters``."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    problems = []
    if not _TOOL_NAME.match(tool.name or ""):
        problems.append(f"the name {tool.name!r} is not 1-64 letters, digits, _ or -")
    schema = tool.parameters
    if not isinstance(schema, Mapping):
        return [*problems, "parameters must be a JSON Schema object"]
    if schema.get("type") != "object":
        problems.append(f'parameters must be a JSON Schema of "type": "object", got {schema.get("type")!r}')
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        location = "/".join(str(part) for part in exc.path)
        problems.append(f"parameters is not a valid JSON Schema{f' at {location}' if location else ''}: {exc.message}")
    return problems


def argument_problems(tool: FunctionTool, arguments: Mapping[str, Any]) -> list[str]:
    """Why the model could not send these arguments to this tool (its declared schema rejects them)."""
    from jsonschema.validators import validator_for

    schema = tool.parameters if isinstance(tool.parameters, Mapping) else {}
    validator = validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(map(str, e.path))):
        location = ".".join(str(part) for part in error.path)
        problems.append(f"{location + ': ' if location else ''}{error.message}")
    # The model only sends the properties the schema declares, so an undeclared one means the test (or the
    # handler it was written for) expects a parameter the model never sees.
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and schema.get("additionalProperties") in (None, False):
        for key in arguments:
            if key not in properties and schema.get("additionalProperties") is None:
                declared = ", ".join(properties) or "none"
                problems.append(f"{key!r} is not a parameter the schema declares (declared: {declared})")
    return problems
