"""The app's configuration, resolved once into the frozen `Runtime` every endpoint receives.

`resolve_settings` merges the explicit `VNSApp` arguments over `VNSSettings` (the environment), and
`build_runtime` turns the result into ready-to-use parts: the credential checker, the tool-token signer,
the store, the session template, the limits. Both are plain functions of their inputs, so a
configuration can be checked without serving anything, and an endpoint never reaches back into `VNSApp`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from vns_sdk._json import JSONError, loads
from vns_sdk._observe._events import EventSource
from vns_sdk._observe._feed import Feed
from vns_sdk._observe._setup import build_events
from vns_sdk._observe._store import ObservedStore
from vns_sdk._problems import problem_summary
from vns_sdk.app._access_log import redactor
from vns_sdk.app._auth import ToolTokens, WebhookAuth
from vns_sdk.app._session import default_session
from vns_sdk.app._start_answer import EncodedParts
from vns_sdk.endpoint import OPENAI_REALTIME_URL, RealtimeEndpoint
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.models import McpTool, RealtimeSession, ToolsUrlAdapter
from vns_sdk.settings import VNSSettings
from vns_sdk.state.base import CallStateStore
from vns_sdk.tools import ToolRouter

if TYPE_CHECKING:
    from vns_sdk.app.handlers import Handler
    from vns_sdk.client import AsyncVNSClient, VNSClient

__all__ = ["Runtime", "StateFaults", "ToolSource", "build_runtime", "resolve_settings"]


class ToolSource(Protocol):
    """Tools known only while the app runs (an MCP server's), which the source keeps in the app's registry."""

    async def start(self) -> None:
        """At startup: connect and register the tools (a failure is logged, not raised)."""

    async def ensure_fresh(self) -> None:
        """Before a CallStart: bring the registered tools up to date, within a bound of the source's own."""

    async def aclose(self) -> None:
        """At shutdown: release connections."""


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def _url_passwords(url: str | None) -> list[str]:
    """The passwords a URL (Redis's, the Realtime endpoint's) holds: in its user part, and as redis-py also reads
    it, in ``?password=``."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    found += [value for key, value in parse_qsl(parts.query) if key == "password" and value]
    return found


def normalize_prefix(prefix: str) -> str:
    """``""`` or ``"/name"``: a leading slash, no trailing one."""
    prefix = prefix.strip()
    if prefix in ("", "/"):
        return ""
    return "/" + prefix.strip("/")


def resolve_settings(base: VNSSettings | None, overrides: Mapping[str, Any]) -> VNSSettings:
    """The app's settings: the explicit arguments (``None`` means unset) over ``base`` or the environment.

    Raises:
        ConfigurationError: A setting is invalid; the message names it, never its value.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    for key in ("webhook_token", "webhook_basic_auth"):
        if isinstance(given.get(key), str):
            given[key] = [given[key]]
    if "tools_url_adapter" in given:
        given["tools_url_adapter"] = str(given["tools_url_adapter"])
    try:
        return VNSSettings.model_validate({**dict(base if base is not None else VNSSettings()), **given})
    except ValidationError as exc:
        raise ConfigurationError(f"invalid VNSApp setting: {problem_summary(exc)}") from None


@dataclass
class StateFaults:
    """What the call-state store's failures cost since the app started (the health route shows them).

    Attributes:
        writes_lost: Handler saves that could not be applied after their retries (their keys are logged).
        starts_not_stored: CallStarts answered without their record and initial state stored.
        call_ends_without_state: CallEnds whose handlers ran without the call's state.
    """

    writes_lost: int = 0
    starts_not_stored: int = 0
    call_ends_without_state: int = 0


@dataclass(frozen=True, eq=False)
class Runtime:
    """Everything an endpoint needs, resolved from the settings once.

    The tool registry and the handler lists are the app's own objects, so tools and handlers registered
    after the app was built are served too.
    """

    settings: VNSSettings
    prefix: str
    webhook_auth: WebhookAuth
    basic_only: bool
    insecure: bool
    tool_tokens: ToolTokens
    realtime: RealtimeEndpoint
    """Where VNS opens the Realtime session of a call, unless a CallStart handler chooses another."""
    api_token: str | None
    model: str
    max_seconds: int
    grace_seconds: int
    tool_timeout: float
    call_start_timeout: float
    max_body_size: int
    body_timeout: float
    trust_forwarded: bool
    public_url: str | None
    tools_url_adapter: str | None
    session_template: RealtimeSession
    store: CallStateStore
    tools: ToolRouter
    start_handlers: list[Handler]
    end_handlers: list[Handler]
    client: VNSClient | None
    async_client: AsyncVNSClient | None
    secrets: tuple[str, ...]
    """Every secret of the configuration, for the log redactor."""
    encoded: EncodedParts
    """The parts of the default CallStart answer, encoded once."""
    tool_sources: list[ToolSource] = field(default_factory=list)
    """Sources of tools refreshed before each CallStart (``app.include_mcp``)."""
    state_faults: StateFaults = field(default_factory=StateFaults)
    _notices: set[str] = field(default_factory=set)
    events: EventSource | None = None
    """Where the webhooks, tools, handlers and store report what they do; ``None`` when nothing could listen
    (no OpenTelemetry, no inspector)."""
    feed: Feed | None = None
    """The inspector's feed, when the inspector is on."""

    def build_session(self) -> RealtimeSession:
        """A fresh copy of the session a call starts with, including the registered tools."""
        session = self.session_template.model_copy(deep=True)
        session.tools = [*(session.tools or ()), *self.tools.function_tools()]
        return session

    def add_session_tool(self, tool: McpTool) -> None:
        """Offer an MCP server (an ``mcp`` tool) in every call's session.

        Raises:
            ConfigurationError: The session already has an MCP server with that label.
        """
        tools = list(self.session_template.tools or ())
        if any(isinstance(other, McpTool) and other.server_label == tool.server_label for other in tools):
            raise ConfigurationError(f"An MCP server labelled {tool.server_label!r} is already in the session.")
        self.session_template.tools = [*tools, tool]

    async def refresh_tool_sources(self) -> None:
        """Bring the tools of every source up to date (each within its own bound; never raises)."""
        if len(self.tool_sources) == 1:
            await self.tool_sources[0].ensure_fresh()
        elif self.tool_sources:
            await asyncio.gather(*(source.ensure_fresh() for source in self.tool_sources))

    def warn_once(self, logger: logging.Logger, key: str, message: str, *, level: int = logging.WARNING) -> None:
        """Log ``message`` (a warning, unless `level` says otherwise) the first time ``key`` is seen by this app."""
        if key not in self._notices:
            self._notices.add(key)
            logger.log(level, message)


def realtime_endpoint(settings: VNSSettings) -> RealtimeEndpoint:
    """The Realtime endpoint the ``VNS_REALTIME_*`` settings (and ``OPENAI_API_KEY``) describe.

    Raises:
        ConfigurationError: The URL is missing (``azure``, ``gateway``) or not a WebSocket URL, or the extra
            headers are not a JSON object of strings.
    """
    key = _secret(settings.openai_api_key)
    url = settings.realtime_url
    provider = settings.realtime_provider
    if provider == "openai":
        endpoint = RealtimeEndpoint.openai(
            key,
            organization=settings.openai_organization,
            project=settings.openai_project,
            url=url or OPENAI_REALTIME_URL,
        )
    elif not url:
        raise ConfigurationError(f"VNS_REALTIME_PROVIDER={provider} needs VNS_REALTIME_URL (the endpoint to open)")
    elif provider == "azure":
        azure_key = _secret(settings.azure_openai_api_key) or key
        endpoint = RealtimeEndpoint.azure(url, azure_key, api_version=settings.azure_api_version)
    else:
        endpoint = RealtimeEndpoint.gateway(url)
    extra = _secret(settings.realtime_headers)
    if extra:
        try:
            headers = loads(extra)
        except JSONError:
            headers = None
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ConfigurationError('VNS_REALTIME_HEADERS must be a JSON object of strings: {"X-Key": "..."}')
        endpoint = replace(endpoint, headers={**endpoint.headers, **headers})
    return endpoint


def build_runtime(
    settings: VNSSettings,
    *,
    realtime: RealtimeEndpoint | None = None,
    session: RealtimeSession | Mapping[str, Any] | None = None,
    state_store: CallStateStore | None = None,
    client: VNSClient | None = None,
    async_client: AsyncVNSClient | None = None,
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> Runtime:
    """Resolve ``settings`` and the app's objects into a `Runtime`.

    With OpenTelemetry installed (and ``telemetry`` on) or the inspector on, the runtime gets an event
    source and its store is observed; ``tracer_provider`` and ``meter_provider`` replace the global ones.

    Raises:
        ConfigurationError: No webhook credential is configured and ``insecure_dev`` is off, or a setting
            is invalid.
    """
    cfg = settings
    tokens = [_secret(token) or "" for token in cfg.webhook_token]
    basic = [_secret(pair) or "" for pair in cfg.webhook_basic_auth]
    if any(":" not in pair for pair in basic):
        raise ConfigurationError("webhook_basic_auth entries must look like 'user:password'")
    webhook_auth = WebhookAuth(tokens, header=cfg.webhook_header, basic=basic)
    insecure = not webhook_auth.configured
    if insecure and not cfg.insecure_dev:
        raise ConfigurationError(
            "No webhook token: set VNS_WEBHOOK_TOKEN (or pass webhook_token=...) to the token VNS presents "
            "on CallStart and CallEnd. For local development only, pass insecure_dev=True "
            "(or set VNS_INSECURE_DEV=1) to serve without one."
        )
    tool_token_secret = _secret(cfg.tool_token_secret)
    signing_secret = tool_token_secret or (tokens[0] if tokens else None) or (basic[0] if basic else None)
    # Without any configured secret (insecure development) each process signs with its own random key.
    tool_tokens = ToolTokens.derive(signing_secret) if signing_secret else ToolTokens(os.urandom(32))
    try:
        tools_url_adapter = str(ToolsUrlAdapter(cfg.tools_url_adapter)) if cfg.tools_url_adapter is not None else None
    except ValueError as exc:
        raise ConfigurationError(f"invalid tools_url_adapter: {exc}") from None
    try:
        session_template = default_session(
            model=cfg.model, voice=cfg.voice, instructions=cfg.instructions, override=session
        )
    except ValidationError as exc:
        raise ConfigurationError(f"invalid session: {problem_summary(exc)}") from None
    redis_url = _secret(cfg.redis_url)
    if state_store is None:
        if redis_url:
            from vns_sdk.state.redis import RedisCallStateStore

            state_store = RedisCallStateStore(
                redis_url,
                mode=cfg.redis_mode,
                sentinels=cfg.redis_sentinels,
                sentinel_password=_secret(cfg.redis_sentinel_password) or None,
            )
        else:
            from vns_sdk.state.memory import MemoryCallStateStore

            state_store = MemoryCallStateStore()
    if realtime is None:
        realtime = realtime_endpoint(cfg)
    realtime.check(session_template.model or cfg.model)
    api_token = _secret(cfg.api_token)
    tools = ToolRouter()
    secrets = (
        _secret(cfg.openai_api_key),
        _secret(cfg.azure_openai_api_key),
        _secret(cfg.realtime_headers),
        *realtime.secrets,
        *_url_passwords(realtime.url),  # wss://user:password@host
        api_token,
        tool_token_secret,
        # Only the password of the Redis URL is secret: the log lines keep naming the server.
        *_url_passwords(redis_url),
        _secret(cfg.redis_sentinel_password),
        *tokens,
        *basic,
        *(pair.partition(":")[2] for pair in basic),
    )
    events, feed = build_events(
        cfg, scrub=redactor.scrub, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    if events is not None:
        state_store = ObservedStore(state_store, events)
    return Runtime(
        settings=cfg,
        prefix=normalize_prefix(cfg.prefix),
        webhook_auth=webhook_auth,
        basic_only=bool(basic) and not tokens,
        insecure=insecure,
        tool_tokens=tool_tokens,
        realtime=realtime,
        api_token=api_token,
        model=cfg.model,
        max_seconds=cfg.max_seconds,
        grace_seconds=cfg.token_grace_seconds,
        tool_timeout=cfg.tool_timeout,
        call_start_timeout=cfg.call_start_timeout,
        max_body_size=cfg.max_body_size,
        body_timeout=cfg.body_timeout,
        trust_forwarded=cfg.trust_forwarded_headers,
        public_url=cfg.public_url.rstrip("/") if cfg.public_url else None,
        tools_url_adapter=tools_url_adapter,
        session_template=session_template,
        store=state_store,
        tools=tools,
        start_handlers=[],
        end_handlers=[],
        client=client,
        async_client=async_client,
        secrets=tuple(secret for secret in secrets if secret),
        events=events,
        feed=feed,
        encoded=EncodedParts(session_template, tools, realtime, cfg.model),
    )
