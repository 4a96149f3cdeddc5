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

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, AsyncExitStack, ExitStack, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from vns_sdk._exchange import Exchange, format_exchanges
from vns_sdk._transcript import TranscriptWriter
from vns_sdk.exceptions import SimulationError
from vns_sdk.testing._call import AsyncSimulatedCall
from vns_sdk.testing._fakes import SOFTWARE_VERSION, call_start_body
from vns_sdk.testing._runtime import AppTarget, open_client
from vns_sdk.testing._scenario_file import Scenario, load_scenario
from vns_sdk.testing._scenario_play import ScenarioResult, play
from vns_sdk.testing._sync_call import CallScope, SimulatedCall

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

__all__ = ["VNSSimulator"]


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
        target = AppTarget.resolve(app, url=url, webhook_token=webhook_token, prefix=prefix)
        self.app = app
        self.url = target.url
        self.prefix = target.prefix
        self.validate = validate
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        self._headers = dict(target.headers)
        self._recorder: Callable[[Exchange], None] | None = None
        if record is not None:
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
        return CallScope(lambda: self._sync_call(body))

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

    def _sync_call(self, body: dict[str, Any]) -> SimulatedCall:
        portal, client = self._sync_runtime()
        return SimulatedCall(self._new_call(client, body), portal)

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
        result = play(scenario if isinstance(scenario, Scenario) else load_scenario(scenario), self.call)
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
