"""`AsyncSimulatedCall`: one phone call, simulated over the wire exactly as VNS places it.

The sync `SimulatedCall` runs this same code in a background event loop.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx

from vns_sdk._exchange import Exchange, ExchangeKind
from vns_sdk._redaction import redact
from vns_sdk.exceptions import SimulationError
from vns_sdk.models.call_end import CallEndRequest
from vns_sdk.models.tool_call import vns_tool_request
from vns_sdk.testing._answers import call_end_answer, call_start_answer, json_text, tool_reply
from vns_sdk.testing._assertions import check_reply
from vns_sdk.testing._checks import argument_problems, function_tools, json_body

if TYPE_CHECKING:
    from vns_sdk.models import CallStartResponse, FunctionTool, RealtimeSession

__all__ = ["AsyncSimulatedCall"]


class AsyncSimulatedCall:
    """A call in progress, placed by `VNSSimulator.acall` (async tests) or wrapped by `SimulatedCall`.

    Attributes:
        request: The CallStart body that was sent (wire names).
        response: The CallStart answer, parsed (`vns_sdk.models.CallStartResponse`).
        exchanges: Every request of the call and its answer, in order.
        ended: Whether CallEnd has been sent.
        end_response: The CallEnd acknowledgement, once the call ended.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        request: dict[str, Any],
        *,
        prefix: str,
        webhook_headers: Mapping[str, str],
        validate: bool = True,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")
        self._webhook_headers = dict(webhook_headers)
        self._validate = validate
        self._on_exchange = on_exchange
        self.request = request
        self.response: CallStartResponse
        self.exchanges: list[Exchange] = []
        self.ended = False
        self.end_response: dict[str, Any] | None = None

    def __repr__(self) -> str:
        state = "ended" if self.ended else "live"
        direction = "outbound" if self.outbound else "inbound"
        return (
            f"<AsyncSimulatedCall {self.session_guid} {direction} from {self.request.get('callerId')} "
            f"to {self.request.get('calledNumber')}, {len(self.exchanges)} exchanges, {state}>"
        )

    # -- what the call is ------------------------------------------------------------------------------

    @property
    def session_guid(self) -> str:
        """VNS's identifier of the call."""
        return str(self.request["sessionGuid"])

    @property
    def customer_call_id(self) -> str | None:
        """The customerCallId VNS carries into tool calls and CallEnd: the app's, else the one dialed with."""
        answered = self.response.voice_elements_instructions.customer_call_id
        return answered if answered is not None else self.request.get("customerCallId")

    @property
    def outbound(self) -> bool:
        """Whether the call was placed through the outbound API."""
        return bool(self.request.get("outboundTriggered"))

    @property
    def session(self) -> RealtimeSession:
        """The Realtime session the app configured for the call."""
        return self.response.session

    @property
    def instructions(self) -> str | None:
        """The instructions the model got."""
        return self.response.session.instructions

    @property
    def tools(self) -> dict[str, FunctionTool]:
        """The function tools offered to the model, by name, in the order the app listed them."""
        return {tool.name: tool for _, tool in function_tools(self.response.session)}

    @property
    def max_seconds(self) -> int:
        """The call's time limit, in seconds."""
        return self.response.voice_elements_instructions.max_seconds

    # -- CallStart -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Send CallStart and check the answer (`VNSSimulator.acall` does this for you)."""
        __tracebackhide__ = True
        response, exchange = await self._post("call_start", self._url("/call-start"), self.request)
        self.response = call_start_answer(
            response, exchange.path, sent_credentials=bool(self._webhook_headers), validate=self._validate
        )

    # -- tool calls ------------------------------------------------------------------------------------

    async def invoke(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        """Call a tool as the model would, through VNS, and return the JSON the model would get back.

        The arguments are checked against the tool's declared JSON schema first, so a schema that no longer
        matches its function fails here, not on a phone call. Argument names are the wire names, as the
        schema declares them (``phoneNumber``, not ``phone_number``).

        Args:
            tool: The tool's name, as offered in the session.
            **arguments: The arguments the model sends.

        Returns:
            The tool's reply: the JSON object the model hears.

        Raises:
            SimulationError: the session offers no such tool, the schema rejects the arguments, or the reply
                is not a 200 with a JSON object (or shows the app's schema and handler disagree).
        """
        __tracebackhide__ = True
        self._require_live(f"call {tool}")
        function = self._function_tool(tool)
        if self._validate:
            problems = argument_problems(function, arguments)
            if problems:
                raise SimulationError(
                    f"The model could not call {tool} with these arguments: the tool's declared schema rejects them.\n"
                    f"  arguments: {json_text(arguments)}\n"
                    + "\n".join(f"  - {problem}" for problem in problems)
                    + f"\n  schema: {json_text(function.parameters)}"
                )
        response = await self.invoke_raw(tool, arguments)
        return tool_reply(response, tool, arguments, function.parameters, validate=self._validate)

    async def invoke_raw(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str | None] | None = None,
        body: Any = None,
        url: str | None = None,
    ) -> httpx.Response:
        """Send a tool call as VNS would, without any check, and return the HTTP response (negative tests).

        Args:
            tool: The tool's name (it need not be offered in the session).
            arguments: The arguments the model sends.
            headers: Headers to add to, or (with a ``None`` value) remove from, the headers the app issued.
            body: A JSON body to send instead of the one VNS would build.
            url: A URL to call instead of the one VNS would build.
        """
        self._require_live(f"call {tool}")
        arguments = dict(arguments or {})
        built_url, built_body = self.tool_request(tool, arguments)
        sent_headers = _merged(self.response.voice_elements_instructions.default_tools_url_base.headers, headers)
        response, _ = await self._post(
            "tool",
            url or built_url,
            built_body if body is None else body,
            headers=sent_headers,
            tool=tool,
            arguments=arguments,
        )
        return response

    def tool_request(self, tool: str, arguments: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL and JSON body VNS would send for this tool call, from ``defaultToolsUrlBase`` and the adapter.

        With a null ``defaultToolsUrlAdapter`` the call's metadata travels in the body, in the
        ``VoiceElements_InvokeTool`` wrapper beside the arguments; with an adapter it travels in the URL.
        """
        instructions = self.response.voice_elements_instructions
        return vns_tool_request(
            instructions.default_tools_url_base.url,
            instructions.default_tools_url_adapter,
            tool_name=tool,
            arguments=arguments,
            session_guid=self.session_guid,
            customer_call_id=self.customer_call_id,
        )

    def model_event(self, reply: Mapping[str, Any], *, call_id: str | None = None) -> dict[str, Any]:
        """What the model receives for a tool reply: the Realtime ``conversation.item.create`` event.

        Args:
            reply: The tool's reply, as `invoke` returned it.
            call_id: The model's ``call_id`` for the function call (default: a generated one).
        """
        return {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": call_id or f"call_{secrets.token_hex(8)}",
                "output": json.dumps(reply, ensure_ascii=False),
            },
        }

    async def assert_reply(
        self, tool: str, /, *, expect: Mapping[str, Any], partial: bool = False, **arguments: Any
    ) -> dict[str, Any]:
        """Call a tool and check its reply; the failure message shows what was sent and what came back.

        Args:
            tool: The tool's name.
            expect: The reply expected: all of it, or (with ``partial=True``) the keys that matter.
            partial: Compare only the keys in `expect` (recursively).
            **arguments: The arguments the model sends.

        Returns:
            The reply.
        """
        __tracebackhide__ = True
        reply = await self.invoke(tool, **arguments)
        check_reply(tool, arguments, reply, expect=expect, partial=partial)
        return reply

    # -- CallEnd ---------------------------------------------------------------------------------------

    async def end(
        self,
        status: int = 0,
        error_message: str | None = None,
        *,
        call_referred_out: bool = False,
        transfers: list[Any] | None = None,
        outbound_call_result: dict[str, Any] | None = None,
        log_information: dict[str, Any] | None = None,
        connected: bool = True,
        duration: float | None = None,
    ) -> dict[str, Any]:
        """Hang up: send CallEnd with realistic timings and check the ``{"status": 0}`` acknowledgement.

        Args:
            status: The call's completion status (0: completed).
            error_message: VNS's error text, if any.
            call_referred_out: Whether the call was transferred out.
            transfers: Transfer records, if any.
            outbound_call_result: The outbound call's result, if any.
            log_information: Diagnostic data, if any.
            connected: Whether the call was answered (``callConnected`` is null otherwise).
            duration: Seconds the caller was connected (default: 5 s plus 12 s per tool call).

        Returns:
            The acknowledgement.
        """
        __tracebackhide__ = True
        self._require_live("end it")
        self.ended = True
        started = _parse_time(str(self.request.get("callStart") or "")) or datetime.now(timezone.utc)
        connected_at = started + timedelta(seconds=random.uniform(0.4, 1.2))
        tool_calls = sum(1 for exchange in self.exchanges if exchange.kind == "tool")
        talk = duration if duration is not None else 5.0 + 12.0 * tool_calls + random.uniform(0, 1)
        report = CallEndRequest(
            session_guid=self.session_guid,
            call_start=started,
            call_connected=connected_at if connected else None,
            call_end=connected_at + timedelta(seconds=talk),
            called_number=self.request.get("calledNumber"),
            caller_id=self.request.get("callerId"),
            caller_id_name=self.request.get("callerIdName"),
            status=status,
            error_message=error_message,
            outbound_triggered=self.outbound,
            outbound_call_result=outbound_call_result,
            customer_call_id=self.customer_call_id,
            call_referred_out=call_referred_out,
            transfers=transfers,
            log_information=log_information,
        )
        body = report.model_dump(mode="json", by_alias=True)
        response, exchange = await self._post("call_end", self._url("/call-end"), body)
        self.end_response = call_end_answer(response, exchange.path, validate=self._validate)
        return self.end_response

    async def end_raw(
        self, body: Mapping[str, Any] | None = None, *, headers: Mapping[str, str | None] | None = None
    ) -> httpx.Response:
        """Send a CallEnd without any check and return the HTTP response (negative tests, replays).

        Args:
            body: The CallEnd body to send (default: a minimal report of this call, status 0).
            headers: Headers to add to, or (with a ``None`` value) remove from, the webhook credentials.
        """
        self._require_live("end it")
        self.ended = True
        if body is None:
            minimal = CallEndRequest(session_guid=self.session_guid, status=0)
            report = minimal.model_dump(mode="json", exclude_unset=True)
        else:
            report = dict(body)
        response, _ = await self._post(
            "call_end", self._url("/call-end"), report, headers=_merged(self._webhook_headers, headers)
        )
        return response

    # -- plumbing --------------------------------------------------------------------------------------

    def _url(self, route: str) -> str:
        return f"{self._prefix}{route}"

    def _require_live(self, action: str) -> None:
        __tracebackhide__ = True
        if not hasattr(self, "response"):
            raise SimulationError(f"Cannot {action}: the call has not started (CallStart was not answered).")
        if self.ended:
            raise SimulationError(f"Cannot {action}: the call has already ended.")

    def _function_tool(self, name: str) -> FunctionTool:
        __tracebackhide__ = True
        tools = self.tools
        if name not in tools:
            offered = ", ".join(tools) or "none"
            raise SimulationError(f"The session offers no tool named {name!r}; the model can only call: {offered}.")
        return tools[name]

    async def _post(
        self,
        kind: ExchangeKind,
        url: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        tool: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> tuple[httpx.Response, Exchange]:
        sent_headers = dict(self._webhook_headers if headers is None else headers)
        began = time.perf_counter()
        response = await self._client.post(url, json=body, headers=sent_headers)
        elapsed = (time.perf_counter() - began) * 1000
        answer, _ = json_body(response)
        exchange = Exchange(
            kind=kind,
            method="POST",
            url=str(response.request.url),
            request_headers={**sent_headers, "content-type": "application/json"},
            request_body=redact(body),
            status=response.status_code,
            response_body=redact(answer),
            elapsed_ms=elapsed,
            tool=tool,
            arguments=arguments,
            response_headers=dict(response.headers),
        )
        self.exchanges.append(exchange)
        if self._on_exchange is not None:
            self._on_exchange(exchange)
        return response, exchange


def _merged(base: Mapping[str, str], changes: Mapping[str, str | None] | None) -> dict[str, str]:
    merged = dict(base)
    for name, value in (changes or {}).items():
        for existing in [key for key in merged if key.lower() == name.lower()]:
            del merged[existing]
        if value is not None:
            merged[name] = value
    return merged


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
