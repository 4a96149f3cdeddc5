"""`McpToolSource`: an MCP server's tools, offered in CallStart and served by the app as its own tools.

The source lists the server's tools through one shared `McpConnection` and keeps them in the app's tool
registry as `Tool`s built `from_schema`: the model sees them among the app's function tools, and VNS
calls them at the app's tools route like any other, so the app's authentication, logs, call state and
timeouts apply. Each call is passed on to the server and its result turned into what the model hears
(`result_body`).

The listing is cached. It is read again before a CallStart when it is older than ``cache_ttl`` (or than
the server's own cache hint), or when the server said its tools changed; a CallStart waits for that at
most ``list_timeout`` seconds and is otherwise answered with the tools listed before. A server that
cannot be listed is tried again after a pause, not on every call.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from vns_sdk.exceptions import InvalidToolSignature, McpServerError, ToolError
from vns_sdk.mcp._connection import McpConnection, McpRequestFailed
from vns_sdk.mcp._results import result_body
from vns_sdk.tools import Tool, ToolRouter

if TYPE_CHECKING:
    from mcp import StdioServerParameters

    from vns_sdk.context import CallContext

__all__ = ["McpToolSource"]

logger = logging.getLogger("vns_sdk.mcp")

_RETRY_AFTER = 30.0  # seconds before a server that could not be listed is asked again
_BACKSTOP = 300.0  # seconds a call without a deadline may wait for the server
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")


class McpToolSource:
    """The tools of one MCP server, served by the app as function tools (built by `VNSApp.include_mcp`).

    Attributes:
        label: How the server is named in logs (its host, or its command).
    """

    def __init__(
        self,
        router: ToolRouter,
        target: str | StdioServerParameters,
        *,
        label: str,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 5.0,
        prefix: str = "",
        allowed_tools: Iterable[str] | None = None,
        timeout: float | None = None,
        tool_timeouts: Mapping[str, float] | None = None,
        cache_ttl: float = 300.0,
        list_timeout: float = 2.0,
    ) -> None:
        self.label = label
        self._router = router
        self._connection = McpConnection(
            target, label=label, headers=headers, connect_timeout=connect_timeout, on_tools_changed=self._mark_changed
        )
        self._prefix = prefix
        self._allowed = frozenset(allowed_tools) if allowed_tools is not None else None
        self._timeout = timeout
        self._tool_timeouts = dict(tool_timeouts or {})
        self._cache_ttl = cache_ttl
        self._list_timeout = list_timeout
        self._registered: dict[str, Tool] = {}  # Realtime name -> the tool registered for it
        self._listed: dict[str, tuple[str, str | None, dict[str, Any]]] = {}  # Realtime name -> what it was built from
        self._listed_at: float | None = None
        self._ttl = cache_ttl
        self._changed = False
        self._retry_at = 0.0
        self._refreshing: asyncio.Task[None] | None = None
        self._warned: set[str] = set()

    @property
    def tools(self) -> dict[str, str]:
        """The server's tools the app serves now: the name the model calls -> the server's name for it."""
        return {name: listed[0] for name, listed in self._listed.items()}

    # -- the listing --------------------------------------------------------------------------------------

    def _mark_changed(self) -> None:
        self._changed = True
        self._retry_at = 0.0

    def stale(self) -> bool:
        """Whether the listing should be read again before the next CallStart."""
        now = time.monotonic()
        if now < self._retry_at:
            return False
        return self._changed or self._listed_at is None or now - self._listed_at >= self._ttl

    async def refresh(self) -> list[str]:
        """List the server's tools now and bring the app's registry up to date.

        Returns:
            The names the model calls the server's tools by.

        Raises:
            McpServerError: The server could not be reached or refused to list its tools.
        """
        self._changed = False
        try:
            listed, server_ttl = await self._connection.list_tools()
        except McpServerError:
            # The listing is not known to be current: read it again, after a pause.
            self._changed = True
            self._retry_at = time.monotonic() + min(_RETRY_AFTER, self._cache_ttl)
            raise
        self._listed_at = time.monotonic()
        self._ttl = self._cache_ttl if server_ttl is None else min(self._cache_ttl, server_ttl)
        self._sync(listed)
        return list(self._registered)

    async def ensure_fresh(self) -> None:
        """Before a CallStart: read the listing again if it is stale, waiting at most ``list_timeout`` seconds.

        Never raises: a server that cannot be listed in time leaves the tools listed before (logged).
        """
        if not self.stale():
            return
        loop = asyncio.get_running_loop()
        task = self._refreshing
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._refreshing = loop.create_task(self._refresh_logged())
        try:
            await asyncio.wait_for(asyncio.shield(task), self._list_timeout)
        except asyncio.TimeoutError:
            # The listing goes on in the background and serves the next call.
            logger.warning(
                "The MCP server %s did not list its tools within %g s; this call is offered the tools listed before.",
                self.label,
                self._list_timeout,
            )

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except McpServerError as exc:
            logger.warning("Cannot list the tools of %s: %s", self.label, exc)
        except Exception:
            # A CallStart must be answered whatever happened here.
            logger.exception("Listing the tools of %s failed", self.label)

    async def start(self) -> None:
        """At the app's startup: open the session and list the tools (a server that is down is logged)."""
        await self.ensure_fresh()

    async def aclose(self) -> None:
        """At the app's shutdown: end the session."""
        task, self._refreshing = self._refreshing, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
        await self._connection.aclose()

    # -- the registry --------------------------------------------------------------------------------------

    def _realtime_name(self, server_name: str) -> str:
        return (self._prefix + _NOT_A_NAME.sub("_", server_name))[:64]

    def _sync(self, listed: list[Any]) -> None:
        """Make the registry hold exactly the listed tools (those allowed), rebuilding only what changed."""
        wanted: dict[str, tuple[str, str | None, dict[str, Any]]] = {}
        for item in listed:
            if self._allowed is not None and item.name not in self._allowed:
                continue
            name = self._realtime_name(item.name)
            if name in wanted:
                self._warn(
                    f"twice:{name}", "MCP server %s: two tools are both named %r here; the second is left out.", name
                )
                continue
            wanted[name] = (item.name, item.description or item.title, dict(item.input_schema))
        for name in list(self._registered):
            server_name, description, schema = wanted.get(name, (None, None, {}))
            if server_name is None or self._listed.get(name) != (server_name, description, schema):
                old = self._registered.pop(name)
                self._listed.pop(name, None)
                if self._router.get(name) is old:
                    self._router.remove(name)
        for name, (server_name, description, schema) in wanted.items():
            if name in self._registered:
                continue
            tool = self._build(name, server_name, description, schema)
            if tool is None:
                continue
            if name in self._router:
                self._warn(
                    f"taken:{name}",
                    "MCP server %s: the app already has a tool named %r; the server's is left out.",
                    name,
                )
                continue
            self._router.add_tool(tool)
            self._registered[name] = tool
            self._listed[name] = (server_name, description, schema)

    def _build(self, name: str, server_name: str, description: str | None, schema: dict[str, Any]) -> Tool | None:
        try:
            return Tool.from_schema(
                name,
                schema,
                functools.partial(self._call, server_name),
                description=description,
                timeout=self._tool_timeouts.get(server_name, self._timeout),
            )
        except InvalidToolSignature as exc:
            self._warn(f"schema:{name}", "MCP server %s: the tool %r is left out: %s", name, exc)
            return None

    def _warn(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, self.label, *args)

    # -- a call -----------------------------------------------------------------------------------------

    async def _call(self, server_name: str, arguments: dict[str, Any], call: CallContext | None) -> dict[str, Any]:
        """Run the server's tool for the model: the handler of every tool this source registers."""
        shown = call.tool_name if call is not None and call.tool_name else self._realtime_name(server_name)
        # The app's deadline answers a slow tool; the SDK's own read timeout is only a backstop behind it.
        time_left = call.time_left if call is not None else None
        backstop = _BACKSTOP if time_left is None else time_left + 1.0
        try:
            result = await self._connection.call_tool(server_name, arguments, backstop)
        except McpServerError as exc:
            logger.warning("Tool %r: %s", shown, exc)
            raise ToolError(
                f"The tool {shown} cannot reach the service it needs right now. Tell the caller it is not "
                "available at the moment, and offer to try again later or to help another way."
            ) from None
        except McpRequestFailed as exc:
            logger.warning("Tool %r: the MCP server %s answered with an error: %s", shown, self.label, exc)
            raise ToolError(
                f"The tool {shown} failed on the service that runs it. Tell the caller it did not work this time, "
                "and offer to try again or to help another way."
            ) from None
        return result_body(shown, result)
