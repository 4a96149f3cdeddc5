"""`VNSApp`: the ASGI application that answers Voice Nexus Service's webhooks.

The app only composes: configuration is resolved here, and each route is served by its own module
(`call_start`, `tool_calls`, `call_end`). Requests are dispatched on raw ASGI, without a framework
router, because a tool call is dead air on a live phone call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from vns_sdk.app import outbound
from vns_sdk.app.access_log import log_webhook, logger, redactor
from vns_sdk.app.asgi import Receive, Scope, Send, send_json
from vns_sdk.app.auth import ToolTokens, WebhookAuth
from vns_sdk.app.call_end import handle_call_end
from vns_sdk.app.call_start import handle_call_start
from vns_sdk.app.errors import error_body, validation_problems
from vns_sdk.app.handlers import Handler, call_end_handler, call_start_handler
from vns_sdk.app.health import handle_health, store_reachable
from vns_sdk.app.session import default_session
from vns_sdk.app.tool_calls import handle_tool_call
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.models import RealtimeSession, ToolsUrlAdapter
from vns_sdk.settings import VNSSettings
from vns_sdk.state.base import CallStateStore
from vns_sdk.tools import Tool, ToolRouter
from vns_sdk.tools.router import ToolDecorator

if TYPE_CHECKING:
    from vns_sdk.client import AsyncVNSClient, VNSClient
    from vns_sdk.models import OutboundCallResponse

__all__ = ["VNSApp"]

F = TypeVar("F", bound=Callable[..., Any])

_NOT_FOUND = error_body("not_found", "There is no such route.")
_INTERNAL_ERROR = error_body("internal_error", "The app failed to answer; its log says why.")
_WEBSOCKET_CLOSE = {"type": "websocket.close", "code": 1000}


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def _url_password(url: str | None) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password if url else None
    except ValueError:
        return None


def _summary(exc: ValidationError) -> str:
    # Field names and what is wrong, without the values given (they may be secrets).
    return "; ".join(f"{problem['field']}: {problem['problem']}" for problem in validation_problems(exc))


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip()
    if prefix in ("", "/"):
        return ""
    return "/" + prefix.strip("/")


class VNSApp:
    """The webhook service of a Voice Nexus Service agent: an ASGI application.

    Serve it with any ASGI server (``uvicorn module:app``), or mount it inside Starlette or FastAPI
    (``fastapi_app.mount("/", app)``; see `lifespan`). Routes, under ``prefix``:

    * ``POST /call-start``: answers how to run the call (OpenAI URL and key, limits, tools, session);
    * ``POST /tools`` and every ``defaultToolsUrlAdapter`` form below it: runs a tool;
    * ``POST /call-end``: runs the ``on_call_end`` handlers, once per call;
    * ``GET /health``: for load balancers (no credentials, no secrets).

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
        openai_api_key: The OpenAI key VNS opens the session with (``OPENAI_API_KEY``). Without it the
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
        tools: Functions, `Tool` records or `ToolRouter` objects to register.
        end_conversation: Register the built-in ``end_conversation`` tool (first in the list).
        state_store: Where call state lives; default Redis when ``redis_url`` is set, else memory.
        redis_url: Share call state between workers through this Redis (``VNS_REDIS_URL``).
        tool_timeout: Seconds a tool may run by default (``VNS_TOOL_TIMEOUT``, default 10).
        call_start_timeout: Seconds the CallStart handlers may take together (``VNS_CALL_START_TIMEOUT``,
            default 3); past it the call is answered in the default form.
        max_body_size: The largest request body accepted, in bytes (``VNS_MAX_BODY_SIZE``, default 1 MiB).
        insecure_dev: Serve CallStart and CallEnd without credentials when no webhook token is set
            (``VNS_INSECURE_DEV``). Local development only: the CallStart answer carries the OpenAI key.
        trust_forwarded_headers: Build the public URL from ``X-Forwarded-*``/``Forwarded``
            (``VNS_TRUST_FORWARDED_HEADERS``); only behind a proxy that sets them.
        client: The `VNSClient` `dial` uses (default: one built from ``VNS_API_URL``/``VNS_API_TOKEN``).
        async_client: The `AsyncVNSClient` `adial` uses (same default).
        settings: Settings to fall back on instead of reading the environment.

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
        tools: Iterable[Callable[..., Any] | Tool | ToolRouter] = (),
        end_conversation: bool = False,
        state_store: CallStateStore | None = None,
        redis_url: str | None = None,
        tool_timeout: float | None = None,
        call_start_timeout: float | None = None,
        max_body_size: int | None = None,
        insecure_dev: bool | None = None,
        trust_forwarded_headers: bool | None = None,
        client: VNSClient | None = None,
        async_client: AsyncVNSClient | None = None,
        settings: VNSSettings | None = None,
    ) -> None:
        explicit = {
            "instructions": instructions,
            "model": model,
            "voice": voice,
            "max_seconds": max_seconds,
            "openai_api_key": openai_api_key,
            "webhook_token": [webhook_token] if isinstance(webhook_token, str) else webhook_token,
            "webhook_header": webhook_header,
            "webhook_basic_auth": [webhook_basic_auth] if isinstance(webhook_basic_auth, str) else webhook_basic_auth,
            "tool_token_secret": tool_token_secret,
            "public_url": public_url,
            "prefix": prefix,
            "tools_url_adapter": str(tools_url_adapter) if tools_url_adapter is not None else None,
            "redis_url": redis_url,
            "tool_timeout": tool_timeout,
            "call_start_timeout": call_start_timeout,
            "max_body_size": max_body_size,
            "insecure_dev": insecure_dev,
            "trust_forwarded_headers": trust_forwarded_headers,
        }
        overrides = {key: value for key, value in explicit.items() if value is not None}
        base = settings if settings is not None else VNSSettings()
        try:
            self.settings: VNSSettings = VNSSettings.model_validate({**dict(base), **overrides})
        except ValidationError as exc:
            raise ConfigurationError(f"invalid VNSApp setting: {_summary(exc)}") from None
        cfg = self.settings

        tokens = [_secret(token) or "" for token in cfg.webhook_token]
        basic = [_secret(pair) or "" for pair in cfg.webhook_basic_auth]
        if any(":" not in pair for pair in basic):
            raise ConfigurationError("webhook_basic_auth entries must look like 'user:password'")
        self._webhook_auth = WebhookAuth(tokens, header=cfg.webhook_header, basic=basic)
        self._basic_only = bool(basic) and not tokens
        self._insecure = not self._webhook_auth.configured
        if self._insecure and not cfg.insecure_dev:
            raise ConfigurationError(
                "No webhook token: set VNS_WEBHOOK_TOKEN (or pass webhook_token=...) to the token VNS presents "
                "on CallStart and CallEnd. For local development only, pass insecure_dev=True "
                "(or set VNS_INSECURE_DEV=1) to serve without one."
            )
        signing_secret = (
            _secret(cfg.tool_token_secret) or (tokens[0] if tokens else None) or (basic[0] if basic else None)
        )
        # Without any configured secret (insecure development) each process signs with its own random key.
        self._tool_tokens = ToolTokens.derive(signing_secret) if signing_secret else ToolTokens(os.urandom(32))
        self._openai_api_key = _secret(cfg.openai_api_key)
        self._api_token = _secret(cfg.api_token)
        redactor.add(
            self._openai_api_key,
            self._api_token,
            _secret(cfg.tool_token_secret),
            _secret(cfg.redis_url),
            _url_password(_secret(cfg.redis_url)),
            *tokens,
            *basic,
            *(pair.partition(":")[2] for pair in basic),
        )

        self.prefix: str = _normalize_prefix(cfg.prefix)
        """The path under which the routes live (``""`` or ``"/vns"``, no trailing slash)."""
        self._model = cfg.model
        self._max_seconds = cfg.max_seconds
        self._grace_seconds = cfg.token_grace_seconds
        self._tool_timeout = cfg.tool_timeout
        self._call_start_timeout = cfg.call_start_timeout
        self._max_body_size = cfg.max_body_size
        self._trust_forwarded = cfg.trust_forwarded_headers
        self._public_url = cfg.public_url.rstrip("/") if cfg.public_url else None
        try:
            self._tools_url_adapter = (
                str(ToolsUrlAdapter(cfg.tools_url_adapter)) if cfg.tools_url_adapter is not None else None
            )
        except ValueError as exc:
            raise ConfigurationError(f"invalid tools_url_adapter: {exc}") from None
        try:
            self._session_template = default_session(
                model=cfg.model, voice=cfg.voice, instructions=cfg.instructions, override=session
            )
        except ValidationError as exc:
            raise ConfigurationError(f"invalid session: {_summary(exc)}") from None

        if state_store is None:
            redis = _secret(cfg.redis_url)
            if redis:
                from vns_sdk.state.redis import RedisCallStateStore

                state_store = RedisCallStateStore(redis)
            else:
                from vns_sdk.state.memory import MemoryCallStateStore

                state_store = MemoryCallStateStore()
        self.store: CallStateStore = state_store
        """The call-state store."""

        self.router = ToolRouter()
        """The registry of the app's tools."""
        if end_conversation:
            from vns_sdk.tools import end_conversation as builtin_end_conversation

            self.add_tool(builtin_end_conversation)
        for item in tools:
            if isinstance(item, ToolRouter):
                self.include_router(item)
            else:
                self.add_tool(item)
        self._start_handlers: list[Handler] = []
        self._end_handlers: list[Handler] = []
        self._client = client
        self._async_client = async_client
        self._warned_no_key = False
        if self._insecure:
            self._warn_insecure()

    # -- registration ---------------------------------------------------------------------------------

    @property
    def tool(self) -> ToolDecorator:
        """Register a function as a tool: ``@app.tool`` or ``@app.tool(name=..., timeout=...)``.

        The function's signature and docstring become the tool's JSON schema; it is returned unchanged.
        This is `ToolRouter.tool` of the app's `router`.
        """
        return self.router.tool

    def add_tool(
        self,
        fn: Callable[..., Any] | Tool,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
    ) -> Tool:
        """Register a function (or a `Tool`) as a tool and return its record."""
        return self.router.add_tool(fn, name=name, description=description, timeout=timeout)

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
        self._start_handlers.append(call_start_handler(fn))
        return fn

    def on_call_end(self, fn: F) -> F:
        """Register a CallEnd handler (``@app.on_call_end``); it runs once per call.

        The handler may take a parameter annotated `CallContext` (with the call's final state and
        ``call.report``) and/or one annotated `CallEndRequest`.

        Raises:
            InvalidToolSignature: The handler asks for a parameter the app cannot give.
        """
        self._end_handlers.append(call_end_handler(fn))
        return fn

    # -- what the app answers ---------------------------------------------------------------------------

    def build_session(self) -> RealtimeSession:
        """A fresh copy of the session a call starts with, including the registered tools."""
        session = self._session_template.model_copy(deep=True)
        session.tools = [*(session.tools or ()), *self.router.function_tools()]
        return session

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
        return outbound.dial(self, called_number, caller_id, caller_id_name, customer_call_id, context)

    async def adial(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> OutboundCallResponse:
        """Async form of `dial`."""
        return await outbound.adial(self, called_number, caller_id, caller_id_name, customer_call_id, context)

    # -- lifecycle --------------------------------------------------------------------------------------

    def _warn_insecure(self) -> None:
        logger.warning(
            "INSECURE: no webhook token is set, so anyone who can reach this app can call CallStart and read "
            "the OpenAI key from its answer. insecure_dev is for local development only; set VNS_WEBHOOK_TOKEN."
        )

    def _warn_no_openai_key(self) -> None:
        if not self._warned_no_key:
            self._warned_no_key = True
            logger.warning(
                "No OpenAI API key (OPENAI_API_KEY): CallStart answers carry no aiUrl Authorization header, so "
                "VNS cannot open the Realtime session."
            )

    async def startup(self) -> None:
        """Start serving (the ASGI lifespan calls it): warn about an insecure setup or an unreachable store."""
        if self._insecure:
            self._warn_insecure()
        if not await store_reachable(self.store):
            # Start anyway: the store may come back, and until then tool calls answer that it is unavailable.
            logger.warning("The call-state store (%s) is not reachable at startup.", type(self.store).__name__)

    async def shutdown(self) -> None:
        """Stop serving (the ASGI lifespan calls it): close the store's connections."""
        await self.store.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        """The app's startup and shutdown, for a host application that mounts it.

        A mounted app gets no lifespan events of its own, so pass this to the host:
        ``FastAPI(lifespan=vns_app.lifespan)`` or ``Starlette(lifespan=vns_app.lifespan)``.
        """
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- ASGI -------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        try:
            # One frame, no wrapper coroutine: this is the path of every tool call.
            if scope["type"] == "http":
                path: str = scope["path"]
                root_path: str = scope.get("root_path", "")
                if root_path and path.startswith(root_path):
                    path = path[len(root_path) :]
                prefix = self.prefix
                if path.startswith(prefix):
                    rest = path[len(prefix) :]
                    if rest.startswith("/tools") and (len(rest) == 6 or rest[6] == "/"):
                        if scope["method"] == "POST":
                            return await handle_tool_call(self, scope, receive, send, rest[6:])
                        return await self._method_not_allowed(send, "tools", "POST")
                    return await self._route(scope, receive, send, rest.rstrip("/"))
                return await send_json(send, 404, _NOT_FOUND)
            await self._other(scope, receive, send)
        except Exception:
            # A fault of the app itself (a client's mistake has its own answer): log it, answer JSON if still possible.
            logger.exception("%s %s failed", scope.get("method", scope["type"]), scope.get("path", ""))
            if scope["type"] == "http":
                with contextlib.suppress(Exception):
                    await send_json(send, 500, _INTERNAL_ERROR)

    async def _route(self, scope: Scope, receive: Receive, send: Send, route: str) -> None:
        method = scope["method"]
        if route == "/call-start":
            if method == "POST":
                return await handle_call_start(self, scope, receive, send)
            return await self._method_not_allowed(send, "call-start", "POST")
        if route == "/call-end":
            if method == "POST":
                return await handle_call_end(self, scope, receive, send)
            return await self._method_not_allowed(send, "call-end", "POST")
        if route == "/health":
            if method in ("GET", "HEAD"):
                return await handle_health(self, send, head=method == "HEAD")
            return await self._method_not_allowed(send, "health", "GET, HEAD")
        await send_json(send, 404, _NOT_FOUND)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._serve_lifespan(receive, send)
        elif kind == "websocket":
            await send(_WEBSOCKET_CLOSE)

    async def _method_not_allowed(self, send: Send, endpoint: str, allow: str) -> None:
        started = time.perf_counter()
        body = error_body("method_not_allowed", f"Use {allow} on this route.")
        await send_json(send, 405, body, [(b"allow", allow.encode())])
        log_webhook(endpoint, started, 405, "method_not_allowed", level=logging.DEBUG)
