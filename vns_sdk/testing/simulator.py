"""`VNSSimulator`: place whole phone calls against an app, offline, exactly as VNS does over the wire.

```python
from vns_sdk.testing import VNSSimulator

with VNSSimulator(app) as vns, vns.call(caller_id="3032639999") as call:
    reply = call.invoke("lookup_name_or_phone", name="Ron")
    assert reply["contactFound"]
```

An app in process is driven through `httpx.ASGITransport` (no server, no network), with its lifespan run
as a server would; a running app is driven at its URL. The sync API runs the async core in a background
event loop, as `starlette.testclient` does.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, AsyncExitStack, ExitStack, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from vns_sdk._exchange import Exchange, format_exchanges
from vns_sdk.exceptions import ConfigurationError, SimulationError
from vns_sdk.testing._runtime import open_client
from vns_sdk.testing.core import SOFTWARE_VERSION, AsyncSimulatedCall, call_start_body, check_reply

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from vns_sdk.models import CallStartResponse, FunctionTool, RealtimeSession
    from vns_sdk.testing.scenario import Scenario, ScenarioResult

__all__ = ["SimulatedCall", "VNSSimulator", "webhook_headers"]

T = TypeVar("T")


def webhook_headers(app: Any = None, webhook_token: str | None = None) -> dict[str, str]:
    """The credentials VNS presents on CallStart and CallEnd, for this app.

    The token given wins; else the app's own (a `VNSApp`'s first webhook token, in the header it is
    configured to read, or its Basic credentials); else ``VNS_WEBHOOK_TOKEN``. An app in insecure
    development mode needs none.
    """
    settings = getattr(app, "settings", None)
    header = str(getattr(settings, "webhook_header", None) or "Authorization")
    token = webhook_token
    if token is None and settings is not None:
        tokens = getattr(settings, "webhook_token", None) or []
        tokens = [tokens] if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)) else tokens
        if tokens:
            token = _secret(tokens[0])
        else:
            basic = getattr(settings, "webhook_basic_auth", None) or []
            if basic:
                pair = base64.b64encode(_secret(basic[0]).encode()).decode()
                return {"Authorization": f"Basic {pair}"}
            if getattr(settings, "insecure_dev", False):
                return {}
    if token is None:
        token = os.environ.get("VNS_WEBHOOK_TOKEN", "").split(",")[0].strip() or None
    if token is None:
        return {}
    return {header: f"Bearer {token}" if header.lower() == "authorization" else token}


def _secret(value: Any) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


class VNSSimulator:
    """Plays Voice Nexus Service against your app: CallStart, tool calls and CallEnd, checked as VNS would.

    Args:
        app: The ASGI app to drive in process (a `VNSApp`, or a Starlette/FastAPI app mounting one).
        url: Instead of `app`, the base URL of a running app (``http://127.0.0.1:8000``).
        webhook_token: The token VNS presents on CallStart/CallEnd. Default: the `VNSApp`'s own, else
            ``VNS_WEBHOOK_TOKEN``; none for an app in insecure development mode.
        prefix: The path the app's routes live under. Default: the `VNSApp`'s prefix, else ``/vns``.
        record: A path: write every exchange to this JSON Lines transcript (secrets redacted), afresh.
        validate: Check the CallStart answer, tool arguments and replies (turn off to drive a broken app).
        timeout: Seconds to wait for each answer.

    Use it as a context manager, or call `close()`, so the app's lifespan ends.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        url: str | None = None,
        webhook_token: str | None = None,
        prefix: str | None = None,
        record: str | os.PathLike[str] | None = None,
        validate: bool = True,
        timeout: float = 30.0,
    ) -> None:
        if (app is None) == (url is None):
            raise ConfigurationError("VNSSimulator needs either an app (VNSSimulator(app)) or a URL (url=...).")
        self.app = app
        self.url = url.rstrip("/") if url else None
        self.prefix = prefix if prefix is not None else str(getattr(getattr(app, "settings", None), "prefix", "/vns"))
        self.validate = validate
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        self._headers = webhook_headers(app, webhook_token)
        self._recorder: Callable[[Exchange], None] | None = None
        if record is not None:
            from vns_sdk._transcript import TranscriptWriter

            self._recorder = TranscriptWriter(Path(record))
        self._client: httpx.AsyncClient | None = None  # set while `async with` the simulator
        self._async_stack: AsyncExitStack | None = None
        self._sync_stack: ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._sync_client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        target = f"url={self.url!r}" if self.url else f"app={type(self.app).__name__}"
        return f"<VNSSimulator {target} prefix={self.prefix!r}, {len(self.exchanges)} exchanges>"

    # -- sync API ----------------------------------------------------------------------------------------

    def call(
        self,
        *,
        caller_id: str | None = None,
        caller_id_name: str | None = None,
        called_number: str | None = None,
        outbound: bool = False,
        customer_call_id: str | None = None,
        session_guid: str | None = None,
        call_start: datetime | None = None,
        software_version: str = SOFTWARE_VERSION,
        extra: Mapping[str, Any] | None = None,
    ) -> AbstractContextManager[SimulatedCall]:
        """Place a call: send CallStart, check the answer, yield the call, and end it (CallEnd) afterwards.

        Args:
            caller_id: The calling number (default: a fictional 10-digit number).
            caller_id_name: The caller's display name (default: a random name).
            called_number: The DID called (default: a fictional number).
            outbound: Simulate a call placed through the outbound API (``outboundTriggered: true``).
            customer_call_id: The customerCallId VNS sends (the one given when dialing, for outbound calls).
            session_guid: VNS's identifier of the call (default: a new UUID).
            call_start: When the call began (default: now).
            software_version: The VNS version reported.
            extra: More CallStart fields to send (for example what a future VNS adds).

        Returns:
            A context manager giving the call in progress. If the block does not end the call, it ends with
            status 0 on leaving.
        """
        body = call_start_body(
            caller_id=caller_id,
            caller_id_name=caller_id_name,
            called_number=called_number,
            outbound=outbound,
            customer_call_id=customer_call_id,
            session_guid=session_guid,
            call_start=call_start,
            software_version=software_version,
            extra=extra,
        )
        return _CallScope(self, body)

    def close(self) -> None:
        """Shut down the in-process app's lifespan and the background event loop."""
        stack, self._sync_stack = self._sync_stack, None
        self._portal = self._sync_client = None
        if stack is not None:
            stack.close()

    def __enter__(self) -> VNSSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _sync_runtime(self) -> tuple[BlockingPortal, httpx.AsyncClient]:
        if self._portal is None or self._sync_client is None:
            from anyio.from_thread import start_blocking_portal

            stack = ExitStack()
            portal = stack.enter_context(start_blocking_portal())
            try:
                client = stack.enter_context(portal.wrap_async_context_manager(self._open()))
            except BaseException:
                stack.close()
                raise
            self._sync_stack, self._portal, self._sync_client = stack, portal, client
        return self._portal, self._sync_client

    # -- async API ---------------------------------------------------------------------------------------

    def acall(
        self,
        *,
        caller_id: str | None = None,
        caller_id_name: str | None = None,
        called_number: str | None = None,
        outbound: bool = False,
        customer_call_id: str | None = None,
        session_guid: str | None = None,
        call_start: datetime | None = None,
        software_version: str = SOFTWARE_VERSION,
        extra: Mapping[str, Any] | None = None,
    ) -> AbstractAsyncContextManager[AsyncSimulatedCall]:
        """Place a call from async code; the arguments are those of `call`.

        Inside ``async with simulator:`` every call shares one run of the app's lifespan; otherwise each
        call starts and stops the app around itself.

        Returns:
            An async context manager giving the call in progress. If the block does not end the call, it ends
            with status 0 on leaving.
        """
        body = call_start_body(
            caller_id=caller_id,
            caller_id_name=caller_id_name,
            called_number=called_number,
            outbound=outbound,
            customer_call_id=customer_call_id,
            session_guid=session_guid,
            call_start=call_start,
            software_version=software_version,
            extra=extra,
        )
        return _AsyncCallScope(self, body)

    async def __aenter__(self) -> VNSSimulator:
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(self._open())
        self._async_stack = stack
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Shut down the app's lifespan started by ``async with simulator``."""
        stack, self._async_stack, self._client = self._async_stack, None, None
        if stack is not None:
            await stack.aclose()

    # -- shared ------------------------------------------------------------------------------------------

    def format_exchanges(self) -> str:
        """Every exchange of every call so far, printed readably."""
        return format_exchanges(self.exchanges)

    def run_scenario(self, scenario: Scenario | str | os.PathLike[str]) -> ScenarioResult:
        """Run a scenario (or scenario file) against this simulator's app; fail with its report if it fails.

        The scenario's own ``app`` is ignored: the simulator's app is the one tested.

        Raises:
            SimulationError: A step did not answer as expected (the message is the scenario's report).
        """
        __tracebackhide__ = True
        from vns_sdk.testing.scenario import run_scenario

        result = run_scenario(scenario, simulator=self)
        if not result.ok:
            raise SimulationError(result.render(exchanges=True)) from None
        return result

    def _open(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return open_client(self.app, self.url, request_timeout=self.timeout)

    def _new_call(self, client: httpx.AsyncClient, body: dict[str, Any]) -> AsyncSimulatedCall:
        return AsyncSimulatedCall(
            client,
            body,
            prefix=self.prefix,
            webhook_headers=self._headers,
            validate=self.validate,
            on_exchange=self._exchanged,
        )

    def _exchanged(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        if self._recorder is not None:
            self._recorder(exchange)


class _CallScope(AbstractContextManager["SimulatedCall"]):
    """`VNSSimulator.call`: CallStart on entering, CallEnd on leaving (the frames stay out of tracebacks)."""

    def __init__(self, simulator: VNSSimulator, body: dict[str, Any]) -> None:
        self._simulator = simulator
        self._body = body
        self._call: SimulatedCall | None = None

    def __enter__(self) -> SimulatedCall:
        __tracebackhide__ = True
        portal, client = self._simulator._sync_runtime()
        call = SimulatedCall(self._simulator._new_call(client, self._body), portal)
        call._run(call.core.start)
        self._call = call
        return call

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        __tracebackhide__ = True
        call, self._call = self._call, None
        if call is None or call.ended:
            return
        if exc is None:
            call._run(call.core.end)
            return
        # The block's own failure matters more than the hang-up's.
        with suppress(Exception):
            call._run(call.core.end)


class _AsyncCallScope(AbstractAsyncContextManager["AsyncSimulatedCall"]):
    """`VNSSimulator.acall`: CallStart on entering, CallEnd on leaving; the app runs for the call if need be."""

    def __init__(self, simulator: VNSSimulator, body: dict[str, Any]) -> None:
        self._simulator = simulator
        self._body = body
        self._stack = AsyncExitStack()
        self._call: AsyncSimulatedCall | None = None

    async def __aenter__(self) -> AsyncSimulatedCall:
        __tracebackhide__ = True
        simulator = self._simulator
        try:
            client = simulator._client
            if client is None:
                client = await self._stack.enter_async_context(simulator._open())
            call = simulator._new_call(client, self._body)
            await call.start()
        except BaseException:
            await self._stack.aclose()
            raise
        self._call = call
        return call

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        __tracebackhide__ = True
        call, self._call = self._call, None
        try:
            if call is not None and not call.ended:
                if exc is None:
                    await call.end()
                else:
                    # The block's own failure matters more than the hang-up's.
                    with suppress(Exception):
                        await call.end()
        finally:
            await self._stack.aclose()


class SimulatedCall:
    """A call in progress (sync API), placed by `VNSSimulator.call`. It mirrors `AsyncSimulatedCall`."""

    def __init__(self, core: AsyncSimulatedCall, portal: BlockingPortal) -> None:
        self.core = core
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self.core).replace("AsyncSimulatedCall", "SimulatedCall", 1)

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        try:
            return self._portal.call(functools.partial(fn, *args, **kwargs))
        except SimulationError as exc:
            # The frames of the background loop say nothing to the reader: show the test's own line.
            raise exc.with_traceback(None) from None

    @property
    def session_guid(self) -> str:
        """VNS's identifier of the call."""
        return self.core.session_guid

    @property
    def customer_call_id(self) -> str | None:
        """The customerCallId VNS carries into tool calls and CallEnd."""
        return self.core.customer_call_id

    @property
    def outbound(self) -> bool:
        """Whether the call was placed through the outbound API."""
        return self.core.outbound

    @property
    def request(self) -> dict[str, Any]:
        """The CallStart body that was sent (wire names)."""
        return self.core.request

    @property
    def response(self) -> CallStartResponse:
        """The CallStart answer, parsed."""
        return self.core.response

    @property
    def session(self) -> RealtimeSession:
        """The Realtime session the app configured for the call."""
        return self.core.session

    @property
    def instructions(self) -> str | None:
        """The instructions the model got."""
        return self.core.instructions

    @property
    def tools(self) -> dict[str, FunctionTool]:
        """The function tools offered to the model, by name."""
        return self.core.tools

    @property
    def max_seconds(self) -> int:
        """The call's time limit, in seconds."""
        return self.core.max_seconds

    @property
    def exchanges(self) -> list[Exchange]:
        """Every request of the call and its answer, in order."""
        return self.core.exchanges

    @property
    def ended(self) -> bool:
        """Whether CallEnd has been sent."""
        return self.core.ended

    @property
    def end_response(self) -> dict[str, Any] | None:
        """The CallEnd acknowledgement, once the call ended."""
        return self.core.end_response

    def invoke(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        """Call a tool as the model would, through VNS, and return the reply; see `AsyncSimulatedCall.invoke`."""
        __tracebackhide__ = True
        result: dict[str, Any] = self._run(self.core.invoke, tool, **arguments)
        return result

    def invoke_raw(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str | None] | None = None,
        body: Any = None,
        url: str | None = None,
    ) -> httpx.Response:
        """Send a tool call without any check; see `AsyncSimulatedCall.invoke_raw`."""
        response: httpx.Response = self._run(self.core.invoke_raw, tool, arguments, headers=headers, body=body, url=url)
        return response

    def tool_request(self, tool: str, arguments: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL and body VNS would send for this tool call."""
        return self.core.tool_request(tool, arguments)

    def model_event(self, reply: Mapping[str, Any], *, call_id: str | None = None) -> dict[str, Any]:
        """What the model receives for a tool reply; see `AsyncSimulatedCall.model_event`."""
        return self.core.model_event(reply, call_id=call_id)

    def assert_reply(
        self, tool: str, /, *, expect: Mapping[str, Any], partial: bool = False, **arguments: Any
    ) -> dict[str, Any]:
        """Call a tool and check its reply; see `AsyncSimulatedCall.assert_reply`."""
        __tracebackhide__ = True
        reply = self.invoke(tool, **arguments)
        check_reply(tool, arguments, reply, expect=expect, partial=partial)
        return reply

    def end(
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
        """Hang up: send CallEnd and check the acknowledgement; see `AsyncSimulatedCall.end`."""
        __tracebackhide__ = True
        result: dict[str, Any] = self._run(
            self.core.end,
            status,
            error_message,
            call_referred_out=call_referred_out,
            transfers=transfers,
            outbound_call_result=outbound_call_result,
            log_information=log_information,
            connected=connected,
            duration=duration,
        )
        return result

    def format_exchanges(self) -> str:
        """The call's exchanges, printed readably."""
        return format_exchanges(self.exchanges)
