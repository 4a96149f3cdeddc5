"""The lookup agent's three webhooks written by hand in Starlette, carefully: what `bench/serve.py` compares to.

The same work a developer would write without vns-sdk for the seed's agent: a bearer check with
``hmac.compare_digest`` on every route (one static token for the tools, given to VNS in the CallStart
answer), the request JSON parsed and checked with pydantic, the CallStart answer built around a session made
once, the tool arguments validated by a pydantic model, the example's own search (a whole name, then a word
of one; a number compared by its digits), ``JSONResponse`` answers. No call state (so any
worker can answer any request), no body cap, no per-call tokens, no logging.

With ``BENCH_REDIS_URL`` set, it also keeps what the lookup agent keeps across workers, in Redis, in as few
round trips as a careful hand would (redis-py's asyncio client, one round trip per webhook, pipelined):
CallStart stores the call's record; a tool call checks the call is live (``EXISTS``: an ended call's tools are
refused with 410); ``end_conversation`` records the end in a live call's state (a three-line Lua script);
CallEnd records the end once across workers (``SET NX``), reads the record and the state, and deletes them,
in one transaction. It does less than VNSApp, so it is a lower bound of what sharing a call costs by hand: no
lease (two tools of a call that write the state can overwrite each other), no retry of a CallEnd whose
answer was lost, keys that a Redis Cluster would spread over its nodes.

Served by ``bench/serve.py`` under the same server as the VNSApp (``vns_sdk._server``, as ``vns-sdk serve``).
"""

from __future__ import annotations

import hmac
import json
import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["app"]

WEBHOOK = f"Bearer {os.environ.get('VNS_WEBHOOK_TOKEN', 'bench-webhook-token-0123456789')}".encode()
TOOL_TOKEN = "bench-static-tool-token-0123456789"
TOOLS_AUTH = f"Bearer {TOOL_TOKEN}".encode()
OPENAI_KEY = os.environ.get("OPENAI_API_KEY", "sk-bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL")
if REDIS_URL:
    import redis.asyncio as aioredis

    REDIS = aioredis.Redis.from_url(REDIS_URL)
    # Records the end in a live call's state (EXISTS, HSET, EXPIRE in one step, so an ended call is not brought
    # back): 1 if the call was live.
    END_IN_STATE = REDIS.register_script(
        """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'ended_by_ai', 'true', 'end_reason', ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""
    )
else:
    REDIS = None
CALL_TTL = 300 + 60  # the call's time limit and a grace
ENDED_TTL = 24 * 3600  # to recognize a CallEnd VNS repeats
DIRECTORY = {"Ron Tanner": "+13035551212", "Maria Garcia": "+17205550134", "Wei Chen": "+13035550199"}

INSTRUCTIONS = (
    "You are a friendly agent. Explain that you can look up a name by a phone number or a phone number by a name. "
    "If the user gives you a phone number or name, call the function lookup_name_or_phone with passing the "
    "appropriate parameter. Read back to the user what was returned and ask them if they wish to look up another "
    "or end the call. The call can be concluded by calling the end_conversation tool."
)

SESSION: dict[str, Any] = {
    "type": "realtime",
    "instructions": INSTRUCTIONS,
    "model": "gpt-realtime",
    "audio": {
        "input": {
            "format": {"type": "audio/pcmu"},
            "transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                               "silence_duration_ms": 200, "create_response": True, "interrupt_response": True,
                               "idle_timeout_ms": 30000},
            "noise_reduction": None,
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": "alloy"},
    },
    "tool_choice": "auto",
    "tools": [
        {
            "name": "end_conversation",
            "description": "If the user says something about ending the conversation, like goodbye, call a "
            "function to let the application know.",
            "type": "function",
            "parameters": {
                "type": "object",
                "properties": {"user_input": {"type": "string", "description": "Input from the user indicating "
                                              "they want to end the conversation."}},
                "required": ["user_input"],
            },
        },
        {
            "name": "lookup_name_or_phone",
            "description": "Looks up the name of a person from a phone number or looks up the phone number of a "
            "person from a name.",
            "type": "function",
            "parameters": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Name of the person to search for."},
                    "phoneNumber": {"type": "string", "description": "Phone number to search, preferably in E.164 "
                                    "format like +13035551212"},
                },
            },
        },
    ],
}  # fmt: skip


class CallStart(BaseModel):
    model_config = ConfigDict(extra="allow")
    sessionGuid: str
    callerId: str | None = None
    customerCallId: str | None = None


class CallEnd(BaseModel):
    model_config = ConfigDict(extra="allow")
    sessionGuid: str
    status: int = 0


class Lookup(BaseModel):
    name: str | None = None
    phone_number: str | None = Field(default=None, alias="phoneNumber")


class EndConversation(BaseModel):
    user_input: str


def _authorized(request: Request, expected: bytes) -> bool:
    return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def call_start(request: Request) -> JSONResponse:
    if not _authorized(request, WEBHOOK):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    try:
        call = CallStart.model_validate(body)
    except ValidationError:
        return JSONResponse({"error": "invalid_request"}, status_code=422)
    if REDIS is not None:
        record = {"callerId": call.callerId, "customerCallId": call.customerCallId}
        await REDIS.set(f"call:{call.sessionGuid}", json.dumps(record), ex=CALL_TTL)
    tools_url = f"{request.url.scheme}://{request.headers.get('host', 'localhost')}/vns/tools"
    return JSONResponse(
        {
            "VoiceElements_Instructions": {
                "aiUrl": {
                    "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
                    "headers": {"Authorization": f"Bearer {OPENAI_KEY}"},
                },
                "maxSeconds": 300,
                "customerCallId": call.customerCallId,
                "defaultToolsUrlBase": {"url": tools_url, "headers": {"Authorization": f"Bearer {TOOL_TOKEN}"}},
                "defaultToolsUrlAdapter": None,
            },
            "event_id": "start_1",
            "type": "session.update",
            "session": SESSION,
        }
    )


def _national(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def lookup(arguments: Lookup) -> dict[str, Any]:
    """The lookup example's search: a whole name first, then one word of a name; a number by its digits."""
    if arguments.name:
        wanted, kind = arguments.name.strip().lower(), "name"
        found = next((name for name in DIRECTORY if name.lower() == wanted), None)
        found = found or next((name for name in DIRECTORY if wanted in name.lower().split()), None)
    else:
        wanted, kind = _national(arguments.phone_number or ""), "phone"
        found = next((name for name, number in DIRECTORY.items() if wanted and _national(number) == wanted), None)
    if found is None:
        return {"matchType": kind, "contactFound": False}
    return {"matchType": kind, "contactFound": True, "contactName": found, "phoneNumber": DIRECTORY[found]}


async def tools(request: Request) -> JSONResponse:
    if not _authorized(request, TOOLS_AUTH):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    wrapper = body.pop("VoiceElements_InvokeTool", None)
    name = wrapper.get("toolName") if isinstance(wrapper, dict) else request.query_params.get("toolname")
    guid = wrapper.get("sessionGuid") if isinstance(wrapper, dict) else request.query_params.get("sessionguid")
    try:
        if name == "lookup_name_or_phone":
            arguments = Lookup.model_validate(body)
            if REDIS is not None and not await REDIS.exists(f"call:{guid}"):
                return JSONResponse({"error": "call_ended"}, status_code=410)
            return JSONResponse(lookup(arguments))
        if name == "end_conversation":
            ending = EndConversation.model_validate(body)
            if REDIS is not None:
                keys = [f"call:{guid}", f"state:{guid}"]
                if not await END_IN_STATE(keys=keys, args=[ending.user_input, CALL_TTL]):
                    return JSONResponse({"error": "call_ended"}, status_code=410)
            return JSONResponse({"ended": True})
    except ValidationError as exc:
        return JSONResponse({"error": "invalid_arguments", "problems": exc.errors(include_url=False)})
    return JSONResponse({"error": "unknown_tool"})


async def call_end(request: Request) -> JSONResponse:
    if not _authorized(request, WEBHOOK):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await _json_object(request)
    if body is None:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    try:
        call = CallEnd.model_validate(body)
    except ValidationError:
        return JSONResponse({"error": "invalid_request"}, status_code=422)
    if REDIS is not None:
        guid = call.sessionGuid
        async with REDIS.pipeline(transaction=True) as pipe:
            pipe.set(f"ended:{guid}", 1, nx=True, ex=ENDED_TTL)
            pipe.get(f"call:{guid}")
            pipe.hgetall(f"state:{guid}")
            pipe.delete(f"call:{guid}", f"state:{guid}")
            first, _record, _state, _ = await pipe.execute()
        if not first:  # a repeat of the CallEnd
            return JSONResponse({"status": 0, "errorMessage": "Success"})
        # (A real app would act on the record and the state here.)
    return JSONResponse({"status": 0, "errorMessage": "Success"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/vns/call-start", call_start, methods=["POST"]),
        Route("/vns/tools", tools, methods=["POST"]),
        Route("/vns/call-end", call_end, methods=["POST"]),
        Route("/vns/health", health, methods=["GET"]),
    ]
)
