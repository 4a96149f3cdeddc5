"""`VNSApp`'s MCP methods: MCP servers in the session, MCP servers' tools served as the app's, the app's tools over MCP.

The work is done in `vns_sdk.mcp`; this module only wires it to the app's runtime (its registry, session,
credentials, prefix and lifespan). The official MCP SDK is imported by `include_mcp` and `serve_mcp`, when
they are called.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from vns_sdk.app._access_log import logger, redactor
from vns_sdk.app._auth import WebhookAuth
from vns_sdk.app._runtime import Runtime, ToolSource
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.mcp._declare import phone_mcp_tool
from vns_sdk.mcp._sdk import require_sdk

if TYPE_CHECKING:
    from starlette.routing import Router

    from vns_sdk.mcp._server import McpEndpoint
    from vns_sdk.mcp._source import McpToolSource
    from vns_sdk.models import McpTool, McpToolFilter

__all__ = ["McpMethods"]

_PREFIX = re.compile(r"^[A-Za-z0-9_-]{0,32}$")
_SECRET_PARAMETER = re.compile(r"auth|token|secret|key|password|sig", re.IGNORECASE)


def _positive(name: str, value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
        raise ConfigurationError(f"include_mcp: {name} must be a positive number of seconds, not {value!r}")


class McpMethods:
    """The MCP part of `VNSApp` (a base class of it; see `vns_sdk.mcp`)."""

    _runtime: Runtime
    _routing: Router
    _mcp_endpoints: list[McpEndpoint]

    def mcp_server(
        self,
        server_label: str,
        *,
        server_url: str | None = None,
        connector_id: str | None = None,
        tunnel_id: str | None = None,
        authorization: str | None = None,
        headers: Mapping[str, str] | None = None,
        allowed_tools: Sequence[str] | McpToolFilter | None = None,
        require_approval: str = "never",
        server_description: str | None = None,
    ) -> McpTool:
        """Offer an MCP server to the model in every call's session: the model calls it directly (OpenAI does).

        The server gets none of the app's logs, call state or timeouts, since VNS never sees those calls;
        use `include_mcp` for that. Credentials given here go to OpenAI in the CallStart answer and are
        kept out of the app's logs.

        Args:
            server_label: The name of the server in the model's tool calls.
            server_url: The server's URL (reachable by OpenAI); or
            connector_id: an OpenAI connector (``connector_googlecalendar``, ...); or
            tunnel_id: an OpenAI tunnel.
            authorization: An OAuth access token OpenAI presents to the server.
            headers: HTTP headers OpenAI sends to the server (an API key, ...).
            allowed_tools: The server's tools the model may call (names, or an `McpToolFilter`). Without
                it the model may call every tool the server has, and a warning is logged.
            require_approval: Must stay ``"never"``: nobody on a phone call can approve a tool call.
            server_description: What the server offers, for the model.

        Returns:
            The ``mcp`` tool added to the session.

        Raises:
            ConfigurationError: Approval is asked for, the server is not named by exactly one of
                ``server_url``/``connector_id``/``tunnel_id``, or the label is taken.
        """
        tool = phone_mcp_tool(
            server_label,
            server_url=server_url,
            connector_id=connector_id,
            tunnel_id=tunnel_id,
            authorization=authorization,
            headers=headers,
            allowed_tools=allowed_tools,
            require_approval=require_approval,
            server_description=server_description,
        )
        self._runtime.add_session_tool(tool)
        redactor.add(tool.authorization, *_credentials(tool.headers or {}))
        return tool

    def include_mcp(
        self,
        url: str | None = None,
        *,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        allowed_tools: Iterable[str] | None = None,
        timeout: float | None = None,
        tool_timeouts: Mapping[str, float] | None = None,
        cache_ttl: float = 300.0,
        list_timeout: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> McpToolSource:
        """Serve an MCP server's tools as the app's own function tools.

        The tools are listed through one MCP session (opened at startup, or by the first CallStart, and
        reopened after a failure) and offered in CallStart among the app's tools, their schemas made
        Realtime-safe as a function's are. VNS calls them at the app's tools route, so authentication,
        logs, call state and timeouts apply, and the app passes each call on to the server. A server that
        is down or slow is answered in words the model can speak. Needs ``pip install 'vns-sdk[mcp]'``.

        Args:
            url: The server's streamable-HTTP URL; or
            command: the command line that runs the server as a subprocess (stdio).
            env: Environment variables for the subprocess (with ``command``).
            headers: HTTP headers sent to the server (credentials; kept out of the logs).
            prefix: Put before each tool's name (``"calendar_"``), to tell servers' tools apart.
            allowed_tools: The server's tools to serve, by the server's names (default: all).
            timeout: Seconds each tool may run (default: the app's tool timeout).
            tool_timeouts: Seconds for particular tools, by the server's names.
            cache_ttl: Seconds the tool list is kept before it is read again (less if the server says so);
                it is also read again when the server says its tools changed.
            list_timeout: The longest a CallStart waits for the tool list; past it the call is offered the
                tools listed before.
            connect_timeout: The longest a tool call waits for a session to open.

        Returns:
            The source of the server's tools: ``await source.refresh()`` lists them now.

        Raises:
            ConfigurationError: Neither or both of ``url`` and ``command``, a bad prefix or timeout, or the
                MCP SDK is not installed.
        """
        if (url is None) == (command is None) or isinstance(command, str):
            raise ConfigurationError("include_mcp: give the server's url, or its command line as a list (not both)")
        if not _PREFIX.match(prefix):
            raise ConfigurationError(f"include_mcp: prefix {prefix!r} must be at most 32 letters, digits, '_' or '-'")
        for name, value in (("timeout", timeout), ("cache_ttl", cache_ttl), ("list_timeout", list_timeout)):
            _positive(name, value)
        _positive("connect_timeout", connect_timeout)
        for value in (tool_timeouts or {}).values():
            _positive("tool_timeouts", value)
        require_sdk("include_mcp")
        from vns_sdk.mcp._source import McpToolSource

        target: Any
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError("include_mcp: url must be an http:// or https:// URL")
            target, label = url, parts.hostname + (f":{parts.port}" if parts.port else "")
            redactor.add(parts.password, *_credentials(headers or {}), *_query_secrets(parts.query))
        else:
            from mcp import StdioServerParameters

            assert command is not None
            if not command:
                raise ConfigurationError("include_mcp: command is empty")
            target = StdioServerParameters(command=command[0], args=list(command[1:]), env=dict(env) if env else None)
            label = os.path.basename(command[0])
        source = McpToolSource(
            self._runtime.tools,
            target,
            label=label,
            headers=headers,
            connect_timeout=connect_timeout,
            prefix=prefix,
            allowed_tools=allowed_tools,
            timeout=timeout,
            tool_timeouts=tool_timeouts,
            cache_ttl=cache_ttl,
            list_timeout=list_timeout,
        )
        self._runtime.tool_sources.append(source)
        return source

    def serve_mcp(self, path: str = "/mcp", *, token: str | None = None, name: str = "vns-sdk") -> McpEndpoint:
        """Serve the app's tools over MCP (streamable HTTP) at ``<prefix><path>``, to any MCP client.

        The same tools VNS calls (all but ``end_conversation``), with the same schemas, validation,
        timeouts and answers; a tool's `CallContext` names the request and starts with an empty state.
        Needs ``pip install 'vns-sdk[mcp]'``.

        Args:
            path: Where to serve it, below the prefix.
            token: The bearer token MCP clients present (``Authorization: Bearer <token>``); default: the
                webhook credentials VNS presents.
            name: The server's name, as MCP clients see it.

        Returns:
            The endpoint (an ASGI app, already routed).

        Raises:
            ConfigurationError: The path is already a route of the app, or the MCP SDK is not installed.
        """
        require_sdk("serve_mcp")
        from starlette.routing import Route

        from vns_sdk.mcp._server import McpEndpoint

        runtime = self._runtime
        full_path = runtime.prefix + "/" + path.strip("/")
        if path.strip("/").split("/")[0] == "tools":
            raise ConfigurationError("serve_mcp: paths below /tools are the tools route's (VNS's adapters use them)")
        if any(getattr(route, "path", None) == full_path for route in self._routing.routes):
            raise ConfigurationError(f"serve_mcp: {full_path} is already a route of the app")
        if token:
            redactor.add(token)
            authorize = WebhookAuth([token]).check
        elif runtime.webhook_auth.configured:
            authorize = runtime.webhook_auth.check
        else:
            logger.warning("INSECURE: the MCP endpoint serves the app's tools without credentials (insecure_dev).")

            def authorize(headers: Iterable[tuple[bytes, bytes]]) -> bool:
                return True

        endpoint = McpEndpoint(
            runtime.tools,
            authorize=authorize,
            default_timeout=runtime.tool_timeout,
            name=name,
            max_body_size=runtime.max_body_size,
        )
        self._routing.routes.append(Route(full_path, endpoint, name="mcp" if not self._mcp_endpoints else None))
        self._mcp_endpoints.append(endpoint)
        return endpoint

    async def _start_mcp(self) -> None:
        sources = self._runtime.tool_sources
        if sources:
            await asyncio.gather(*(source.start() for source in sources))
        for endpoint in self._mcp_endpoints:
            await endpoint.start()

    async def _stop_mcp(self) -> None:
        parts: list[ToolSource | McpEndpoint] = [*self._runtime.tool_sources, *self._mcp_endpoints]
        for part in parts:
            try:
                await part.aclose()
            except Exception:
                logger.exception("Closing %s failed", type(part).__name__)


def _credentials(headers: Mapping[str, str]) -> list[str]:
    """Header values to keep out of the logs: each value, and the token after its scheme (``Bearer ...``)."""
    found: list[str] = []
    for value in headers.values():
        found.append(value)
        scheme, space, rest = value.partition(" ")
        if space and scheme.isalpha():
            found.append(rest.strip())
    return found


def _query_secrets(query: str) -> list[str]:
    """Values of URL parameters named like credentials (``?api_key=...``), to keep out of the logs."""
    return [value for name, value in parse_qsl(query) if _SECRET_PARAMETER.search(name)]
