"""One MCP client session per server, shared by every tool call: opened on first use, reopened after a failure.

The session is the official SDK's `mcp.Client` over streamable HTTP (or a subprocess's stdio). Its
transport runs task groups that must be entered and left by one task, and whose failure cancels that task,
so each session lives in a task of its own (`_run`): callers only send requests through it, a server that
goes away ends that task rather than a caller's, and the next request opens a new session. A session
belongs to the event loop that opened it; a request from another loop (a test's, a new worker's) opens
its own.

The server's "tools changed" signal (a ``tools/list_changed`` notification, or a ``subscriptions/listen``
event on a 2026 connection) is passed on to ``on_tools_changed``, which marks the cached listing stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx2
import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from vns_sdk._version import __version__
from vns_sdk.exceptions import McpServerError

__all__ = ["McpConnection", "McpRequestFailed"]

logger = logging.getLogger("vns_sdk.mcp")

_MAX_PAGES = 50  # a server whose listing never ends cannot hold a CallStart forever
_STOP_GRACE = 5.0


class McpRequestFailed(Exception):
    """The server is reachable but answered a request with an error (the message is the server's)."""


@dataclass
class _Session:
    loop: asyncio.AbstractEventLoop
    ready: asyncio.Future[Client]
    stop: asyncio.Event
    task: asyncio.Task[None]


class McpConnection:
    """The connection to one MCP server.

    Args:
        target: The streamable-HTTP URL, or the parameters of a server run as a subprocess (stdio).
        label: How the server is named in logs and errors (never its credentials).
        headers: HTTP headers sent with every request (credentials); HTTP only.
        connect_timeout: Seconds to wait for a session to open.
        on_tools_changed: Called when the server says its tools changed.
    """

    def __init__(
        self,
        target: str | StdioServerParameters,
        *,
        label: str,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 5.0,
        on_tools_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.label = label
        self._target = target
        self._headers = dict(headers or {})
        self._connect_timeout = connect_timeout
        self._on_tools_changed = on_tools_changed
        self._session: _Session | None = None

    # -- the session ------------------------------------------------------------------------------------

    async def client(self) -> Client:
        """The open session, opening one if there is none (or if it belongs to another event loop).

        Raises:
            McpServerError: The server could not be reached or did not open a session in time.
        """
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.loop is not loop or session.task.done():
            if session is not None:
                _stop(session)
            session = self._session = self._start(loop)
        try:
            return await asyncio.wait_for(asyncio.shield(session.ready), self._connect_timeout)
        except asyncio.TimeoutError:
            self._reset(session)
            raise McpServerError(
                f"the MCP server {self.label} did not open a session within {self._connect_timeout:g} s"
            ) from None

    def _start(self, loop: asyncio.AbstractEventLoop) -> _Session:
        ready: asyncio.Future[Client] = loop.create_future()
        # Read any failure, so that one nobody waits for any more is not reported as never retrieved.
        ready.add_done_callback(lambda done: done.cancelled() or done.exception())
        stop = asyncio.Event()
        task = loop.create_task(self._run(ready, stop), name=f"vns-sdk MCP session {self.label}")
        return _Session(loop, ready, stop, task)

    async def _open_client(self, stack: contextlib.AsyncExitStack) -> Client:
        if isinstance(self._target, str):
            # Given to the transport, the HTTP client stays ours to close.
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    headers=self._headers, timeout=httpx2.Timeout(30.0, connect=self._connect_timeout, read=300.0)
                )
            )
            transport: Any = streamable_http_client(self._target, http_client=http)
        else:
            transport = self._target
        client = Client(
            transport,
            message_handler=self._on_message,
            client_info=types.Implementation(name="vns-sdk", version=__version__),
            cache=None,  # the tool list is cached by the source, with its own refresh policy
        )
        return await stack.enter_async_context(client)

    async def _run(self, ready: asyncio.Future[Client], stop: asyncio.Event) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = await self._open_client(stack)
                watcher = asyncio.get_running_loop().create_task(self._watch(client))
                stack.callback(watcher.cancel)
                ready.set_result(client)
                await stop.wait()
        except Exception as exc:
            reason = _reason(exc)
            if not ready.done():
                ready.set_exception(
                    McpServerError(
                        f"the MCP server {self.label} could not be reached or refused the session ({reason})"
                    )
                )
            else:
                logger.warning("The session with the MCP server %s ended: %s", self.label, reason)
        finally:
            if not ready.done():
                ready.cancel()

    async def _watch(self, client: Client) -> None:
        """Follow the server's tools-changed events on a 2026 connection (earlier ones notify `_on_message`)."""
        tools = client.server_capabilities.tools
        if client.protocol_version not in MODERN_PROTOCOL_VERSIONS or tools is None or not tools.list_changed:
            return
        try:
            async with client.listen(tools_list_changed=True) as events:
                async for _ in events:
                    self._on_tools_changed()
        except Exception as exc:
            logger.info("Cannot follow the tool changes of the MCP server %s: %s", self.label, _reason(exc))
        # Changes made while no one listened are unknown: read the list again.
        self._on_tools_changed()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._on_tools_changed()
        elif isinstance(message, Exception):
            logger.debug("The MCP server %s sent something unreadable: %s", self.label, _reason(message))

    def _reset(self, session: _Session | None = None) -> None:
        """Drop the session (the given one, if it is still current), so that the next request opens another."""
        current = self._session
        if current is None or (session is not None and current is not session):
            return
        self._session = None
        _stop(current)

    async def aclose(self) -> None:
        """End the session (and wait for it to end, if it runs on this event loop)."""
        session, self._session = self._session, None
        if session is None:
            return
        _stop(session)
        if session.loop is not asyncio.get_running_loop():
            return  # another loop's (a finished test's, a thread's): not ours to wait on
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(session.task), _STOP_GRACE)
        if not session.task.done():
            session.task.cancel()

    # -- requests ---------------------------------------------------------------------------------------

    async def list_tools(self) -> tuple[list[types.Tool], float | None]:
        """Every tool the server lists, and how long the server says the listing stays fresh (seconds), if it does.

        Raises:
            McpServerError: The server could not be reached, or refused to list its tools.
        """
        client = await self.client()
        tools: list[types.Tool] = []
        ttl: float | None = None
        cursor: str | None = None
        try:
            for _ in range(_MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                if ttl is None and page.ttl_ms:
                    # A positive hint only: 0 is also what a server that gives none is read as.
                    ttl = page.ttl_ms / 1000
                cursor = page.next_cursor
                if not cursor:
                    break
        except McpRequestFailed as exc:
            raise McpServerError(f"the MCP server {self.label} refused to list its tools ({exc})") from None
        except Exception as exc:
            self._fail(exc)
        return tools, ttl

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout: float | None) -> types.CallToolResult:
        """Call a tool of the server; its own failures come back in the result (``is_error``).

        Raises:
            McpServerError: The server could not be reached (the session is dropped, the next call reopens one).
            McpRequestFailed: The server answered with a protocol error (an unknown tool, a timeout, ...).
        """
        client = await self.client()
        try:
            return await client.call_tool(name, arguments, read_timeout_seconds=timeout)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        """Raise what a failed request means: `McpRequestFailed` if the server answered, else `McpServerError`."""
        session = self._session
        alive = session is not None and not session.task.done()
        if alive and isinstance(exc, MCPError) and exc.code != types.CONNECTION_CLOSED:
            raise McpRequestFailed(exc.error.message) from None
        if alive and isinstance(exc, (ValueError, RuntimeError)):
            # An answer that does not fit the protocol (a result off its own output schema, ...).
            raise McpRequestFailed(_reason(exc)) from None
        self._reset()
        raise McpServerError(f"the MCP server {self.label} could not be reached ({_reason(exc)})") from None


def _stop(session: _Session) -> None:
    """Ask a session's task to end: from its own loop, or from another thread's; a closed loop has ended it."""

    def stop() -> None:
        session.stop.set()
        if not session.ready.done():
            session.task.cancel()  # still opening: nothing to close gracefully

    try:
        if session.loop is asyncio.get_running_loop():
            stop()
        elif not session.loop.is_closed():
            session.loop.call_soon_threadsafe(stop)
    except RuntimeError:  # the loop closed in between
        pass


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: the first error of a group, without its traceback."""
    while getattr(exc, "exceptions", None):  # an exception group
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
