"""`VNSApp`: the ASGI application that answers Voice Nexus Service's webhooks.

The app only composes: `resolve_settings` and `build_runtime` turn its arguments into a frozen
`Runtime`, and a Starlette `Router` (`build_router`) serves the webhooks, each an endpoint of its own
module that receives that runtime, beside any route or mount the user adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from vns_sdk._observe._store import unwrap
from vns_sdk.app import _outbound
from vns_sdk.app._access_log import logger, redactor
from vns_sdk.app._health import store_reachable
from vns_sdk.app._mcp import McpMethods
from vns_sdk.app._routed import RoutedApp
from vns_sdk.app._routing import build_router
from vns_sdk.app._runtime import Runtime, build_runtime, resolve_settings
from vns_sdk.app.handlers import call_end_handler, call_start_handler
from vns_sdk.endpoint import RealtimeEndpoint
from vns_sdk.models import RealtimeSession, ToolsUrlAdapter
from vns_sdk.settings import VNSSettings
from vns_sdk.state.base import CallStateStore
from vns_sdk.tools import Tool, ToolRouter
from vns_sdk.tools._router import ToolDecorator

if TYPE_CHECKING:
    from vns_sdk._observe._chat_room import ChatRoom
    from vns_sdk.client import AsyncVNSClient, VNSClient
    from vns_sdk.models import OutboundCallResponse

__all__ = ["VNSApp"]

F = TypeVar("F", bound=Callable[..., Any])

_INSECURE = (
    "INSECURE: no webhook token is set, so anyone who can reach this app can call CallStart and read "
    "the OpenAI key from its answer. insecure_dev is for local development only; set VNS_WEBHOOK_TOKEN."
)


class VNSApp(RoutedApp, McpMethods):
    """The webhook service of a Voice Nexus Service agent: an ASGI application.

    Serve it with any ASGI server (``vns-sdk serve``, ``uvicorn module:app``), or mount it inside Starlette
    or FastAPI (``fastapi_app.mount("/", app)``; see `lifespan`). Its routing is Starlette's: add routes,
    mounts and middleware as in Starlette (`add_route`, `mount`, `add_middleware`). Routes, under ``prefix``:

    * ``POST /call-start``: answers how to run the call (OpenAI URL and key, limits, tools, session);
    * ``POST /tools`` and every ``defaultToolsUrlAdapter`` form below it: runs a tool;
    * ``POST /call-end``: runs the ``on_call_end`` handlers, once per call;
    * ``GET /health``: for load balancers (no credentials, no secrets).

    MCP servers can be offered to the model (`mcp_server`) or served as the app's own tools
    (`include_mcp`), and the app's tools can be served to MCP clients (`serve_mcp`).

    Every argument left ``None`` falls back to `VNSSettings` (that is, to the environment); explicit
    arguments win.

    Example:
        ```python
        from vns_sdk import CallContext, VNSApp

        app = VNSApp(instructions="You are a friendly agent.", end_conversation=True)

        @app.tool
        async def opening_hours(day: str) -> dict:
            '''Tells the caller the opening hours for a day of the week.

            Args:
                day: The day of the week, in English.
            '''
            return {"day": day, "open": "9:00", "close": "17:00"}

        @app.on_call_start
        async def greet(call: CallContext) -> None:
            if call.outbound:
                call.session.instructions += " You are calling the customer back."
        ```

    Args:
        instructions: The agent's instructions (``VNS_INSTRUCTIONS``).
        model: The Realtime model (``VNS_MODEL``, default ``gpt-realtime``).
        voice: The voice (``VNS_VOICE``, default ``alloy``).
        max_seconds: The longest a call may last (``VNS_MAX_SECONDS``, default 300).
        openai_api_key: The OpenAI key VNS opens the session with (``OPENAI_API_KEY``), unless ``realtime``
            says otherwise. Without it the
            app still answers CallStart (with no ``Authorization`` header in ``aiUrl``) and logs a warning,
            so a local test needs no key; VNS cannot open a real session that way.
        webhook_token: The token VNS presents on CallStart and CallEnd, or a list of tokens accepted
            during a rotation (``VNS_WEBHOOK_TOKEN``, comma-separated).
        webhook_header: The header carrying the token (``VNS_WEBHOOK_HEADER``, default ``Authorization``,
            which expects ``Bearer <token>``; another header carries the bare token).
        webhook_basic_auth: ``"user:password"`` pair(s) accepted as HTTP Basic (``VNS_WEBHOOK_BASIC_AUTH``).
        tool_token_secret: The key that signs per-call tool tokens (``VNS_TOOL_TOKEN_SECRET``); derived
            from the first webhook credential when unset.
        public_url: The app's external URL (``VNS_PUBLIC_URL``); the mount path, the prefix and
            ``/tools`` are appended. When unset it is built from the request's Host.
        prefix: Path of the routes (``VNS_PREFIX``, default ``/vns``).
        tools_url_adapter: The ``defaultToolsUrlAdapter`` to answer (``VNS_TOOLS_URL_ADAPTER``); the tools
            route accepts every form whatever this says.
        session: A `RealtimeSession` or a dict merged over the default session (pcmu audio, server VAD,
            whisper-1 transcription, the voice, ``tool_choice: auto``). Tools it lists are offered besides
            the registered ones.
        realtime: Where VNS opens each call's Realtime session: `RealtimeEndpoint.openai` (the default, with
            ``openai_api_key``), `RealtimeEndpoint.azure` or `RealtimeEndpoint.gateway`; else the
            ``VNS_REALTIME_*`` settings. A CallStart handler may choose another for one call (``call.realtime``).
        tools: Functions, `Tool` records or `ToolRouter` objects to register.
        end_conversation: Register the built-in ``end_conversation`` tool (first in the list).
        state_store: Where call state lives; default Redis when ``redis_url`` is set, else memory.
        redis_url: Share call state between workers through this Redis (``VNS_REDIS_URL``).
        tool_timeout: Seconds a tool may run by default (``VNS_TOOL_TIMEOUT``, default 10).
        call_start_timeout: Seconds the CallStart handlers may take together (``VNS_CALL_START_TIMEOUT``,
            default 3); past it the call is answered in the default form.
        max_body_size: The largest request body accepted, in bytes (``VNS_MAX_BODY_SIZE``, default 1 MiB).
        body_timeout: Seconds a request's body may take to arrive (``VNS_BODY_TIMEOUT``, default 5); a slower
            one is answered 408 and its connection closed, so a slow client cannot hold it.
        insecure_dev: Serve CallStart and CallEnd without credentials when no webhook token is set
            (``VNS_INSECURE_DEV``). Local development only: the CallStart answer carries the OpenAI key.
        trust_forwarded_headers: Build the public URL from ``X-Forwarded-*``/``Forwarded``
            (``VNS_TRUST_FORWARDED_HEADERS``); only behind a proxy that sets them.
        telemetry: Emit OpenTelemetry spans and metrics when ``opentelemetry-api`` is installed
            (``VNS_TELEMETRY``, default on), to the global providers or to ``tracer_provider`` and ``meter_provider``.
        telemetry_content: Record tool arguments and results in the spans, redacted (``VNS_TELEMETRY_CONTENT``).
        inspector: Serve the inspector page at ``<prefix>/inspector/`` (``VNS_INSPECTOR``), behind the webhook
            credentials whenever the app has them.
        tracer_provider: The OpenTelemetry tracer provider to use instead of the global one.
        meter_provider: The OpenTelemetry meter provider to use instead of the global one.
        client: The `VNSClient` `dial` uses (default: one built from ``VNS_API_URL``/``VNS_API_TOKEN``).
        async_client: The `AsyncVNSClient` `adial` uses (same default).
        settings: Settings to fall back on instead of reading the environment.
        routes: Starlette routes served beside the webhooks (``Route``, ``Mount``, ...).
        middleware: Starlette middleware wrapped around every route (``Middleware(cls, ...)``).

    Raises:
        ConfigurationError: No webhook credential is configured and ``insecure_dev`` is off, or a
            setting is invalid.
    """

    def __init__(
        self,
        *,
        instructions: str | None = None,
        model: str | None = None,
        voice: str | None = None,
        max_seconds: int | None = None,
        openai_api_key: str | None = None,
        webhook_token: str | Sequence[str] | None = None,
        webhook_header: str | None = None,
        webhook_basic_auth: str | Sequence[str] | None = None,
        tool_token_secret: str | None = None,
        public_url: str | None = None,
        prefix: str | None = None,
        tools_url_adapter: str | ToolsUrlAdapter | None = None,
        session: RealtimeSession | Mapping[str, Any] | None = None,
        realtime: RealtimeEndpoint | None = None,
        tools: Iterable[Callable[..., Any] | Tool | ToolRouter] = (),
        end_conversation: bool = False,
        state_store: CallStateStore | None = None,
        redis_url: str | None = None,
        tool_timeout: float | None = None,
        call_start_timeout: float | None = None,
        max_body_size: int | None = None,
        body_timeout: float | None = None,
        insecure_dev: bool | None = None,
        trust_forwarded_headers: bool | None = None,
        telemetry: bool | None = None,
        telemetry_content: bool | None = None,
        inspector: bool | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        client: VNSClient | None = None,
        async_client: AsyncVNSClient | None = None,
        settings: VNSSettings | None = None,
        routes: Sequence[BaseRoute] = (),
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self.settings: VNSSettings = resolve_settings(
            settings,
            {
                "instructions": instructions,
                "model": model,
                "voice": voice,
                "max_seconds": max_seconds,
                "openai_api_key": openai_api_key,
                "webhook_token": webhook_token,
                "webhook_header": webhook_header,
                "webhook_basic_auth": webhook_basic_auth,
                "tool_token_secret": tool_token_secret,
                "public_url": public_url,
                "prefix": prefix,
                "tools_url_adapter": tools_url_adapter,
                "redis_url": redis_url,
                "tool_timeout": tool_timeout,
                "call_start_timeout": call_start_timeout,
                "max_body_size": max_body_size,
                "body_timeout": body_timeout,
                "insecure_dev": insecure_dev,
                "trust_forwarded_headers": trust_forwarded_headers,
                "telemetry": telemetry,
                "telemetry_content": telemetry_content,
                "inspector": inspector,
            },
        )
        runtime = build_runtime(
            self.settings,
            realtime=realtime,
            session=session,
            state_store=state_store,
            client=client,
            async_client=async_client,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        self._runtime: Runtime = runtime
        redactor.add(*runtime.secrets)
        self.prefix: str = runtime.prefix
        """The path under which the routes live (``""`` or ``"/vns"``, no trailing slash)."""
        self.store: CallStateStore = unwrap(runtime.store)
        """The call-state store."""
        self.router: ToolRouter = runtime.tools
        """The registry of the app's tools."""
        self._mcp_endpoints = []
        self._chats: ChatRoom | None = None
        super().__init__(build_router(runtime, routes), middleware)
        if runtime.feed is not None:
            from vns_sdk.app._inspector_mount import mount_inspector

            self._chats = mount_inspector(self, runtime)
        if end_conversation:
            from vns_sdk.tools import end_conversation as builtin_end_conversation

            self.add_tool(builtin_end_conversation)
        for item in tools:
            if isinstance(item, ToolRouter):
                self.include_router(item)
            else:
                self.add_tool(item)
        if runtime.insecure:
            logger.warning(_INSECURE)

    # -- registration ---------------------------------------------------------------------------------

    @property
    def tool(self) -> ToolDecorator:
        """Register a function as a tool: ``@app.tool`` or ``@app.tool(name=..., timeout=..., state=...)``.

        The function's signature and docstring become the tool's JSON schema; it is returned unchanged.
        ``state`` says whether the tool uses ``call.state`` (read from the function by default; see
        the Call state guide). This is `ToolRouter.tool` of the app's `router`.
        """
        return self.router.tool

    def add_tool(
        self,
        fn: Callable[..., Any] | Tool,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        state: bool | None = None,
    ) -> Tool:
        """Register a function (or a `Tool`) as a tool and return its record (see `ToolRouter.add_tool`)."""
        return self.router.add_tool(fn, name=name, description=description, timeout=timeout, state=state)

    def include_router(self, router: ToolRouter) -> None:
        """Register every tool of ``router``."""
        self.router.include_router(router)

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The registered tools by name, in registration order."""
        return self.router.tools

    def on_call_start(self, fn: F) -> F:
        """Register a CallStart handler (``@app.on_call_start``); handlers run in registration order.

        The handler may take only a parameter annotated `CallContext`. Through it, it may change
        ``call.session`` (instructions, voice, tools), ``call.max_seconds``, ``call.customer_call_id`` and
        ``call.state``, or refuse the call with ``call.refuse(reason)``. All handlers together must finish
        within ``call_start_timeout``; if one fails or is late, the call is answered in the default form.

        Raises:
            InvalidToolSignature: The handler asks for a parameter the app cannot give.
        """
        self._runtime.start_handlers.append(call_start_handler(fn))
        return fn

    def on_call_end(self, fn: F) -> F:
        """Register a CallEnd handler (``@app.on_call_end``); it runs once per call.

        The handler may take a parameter annotated `CallContext` (with the call's final state and
        ``call.report``) and/or one annotated `CallEndRequest`.

        Raises:
            InvalidToolSignature: The handler asks for a parameter the app cannot give.
        """
        self._runtime.end_handlers.append(call_end_handler(fn))
        return fn

    # -- what the app answers ---------------------------------------------------------------------------

    def build_session(self) -> RealtimeSession:
        """A fresh copy of the session a call starts with, including the registered tools."""
        return self._runtime.build_session()

    def webhook_urls(self, base_url: str) -> dict[str, str]:
        """The URLs to give VNS support, for the app served at ``base_url``.

        Returns:
            ``{"call_start": ..., "call_end": ..., "tools": ...}``.
        """
        base = base_url.rstrip("/") + self.prefix
        return {"call_start": f"{base}/call-start", "call_end": f"{base}/call-end", "tools": f"{base}/tools"}

    # -- outbound ---------------------------------------------------------------------------------------

    def dial(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> OutboundCallResponse:
        """Ask VNS to place an outbound call; ``context`` comes back in ``call.state`` at its CallStart.

        For code outside an event loop (scripts, task queues); inside one use `adial`.

        Args:
            called_number: The number to call.
            caller_id: The caller ID to present (one of your DIDs).
            caller_id_name: The caller ID name to present.
            customer_call_id: Your identifier of the call; one is generated when omitted.
            context: JSON-serializable values the call starts with in ``call.state``.

        Raises:
            VNSStatusError: VNS refused the call.
            VNSConnectionError: VNS could not be reached (`VNSTimeoutError` when it timed out).
        """
        request = _outbound.outbound_request(called_number, caller_id, caller_id_name, customer_call_id)
        return _outbound.dial(self._runtime, request, context)

    async def adial(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> OutboundCallResponse:
        """Async form of `dial`."""
        request = _outbound.outbound_request(called_number, caller_id, caller_id_name, customer_call_id)
        return await _outbound.adial(self._runtime, request, context)

    # -- lifecycle --------------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Start serving (the ASGI lifespan calls it): warn about an insecure setup or an unreachable store,
        and connect to the MCP servers whose tools the app serves."""
        if self._chats is not None:
            self._chats.closed = False  # served again after a shutdown (a test client used twice)
        if self._runtime.insecure:
            logger.warning(_INSECURE)
        if not await store_reachable(self.store):
            # Start anyway: the store may come back, and until then tool calls answer that it is unavailable.
            logger.warning("The call-state store (%s) is not reachable at startup.", type(self.store).__name__)
        await self._start_mcp()

    async def shutdown(self) -> None:
        """Stop serving (the ASGI lifespan calls it): hang up the inspector's chats, close the MCP sessions
        and the store's connections."""
        if self._chats is not None:
            await self._chats.close()
        await self._stop_mcp()
        await self.store.aclose()
