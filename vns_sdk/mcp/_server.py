"""`McpEndpoint`: the app's tools served over MCP (streamable HTTP), to any MCP client.

Built on the official SDK's low-level `mcp.server.lowlevel.Server` rather than on `MCPServer` (FastMCP):
the app's tools already have their schemas, validators, `CallContext` parameter, timeouts and error
answers, and the low-level server serves exactly those, through the same `invoke_tool` that answers VNS,
where `MCPServer` would read each function again by rules of its own. One set of tools, one behaviour,
whichever client calls.

The endpoint is stateless and answers JSON (no server-sent events): every request stands alone, so it
works the same behind several workers. Every request must carry a credential (checked before the SDK sees
it). The SDK's session manager runs a task group that must live as long as the endpoint serves: it runs in
a task of its own, started by the app's startup (or by the first request, when the host gives no
lifespan) and stopped at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

from vns_sdk._version import __version__
from vns_sdk.context import CallContext
from vns_sdk.tools import Tool, ToolRouter, end_conversation, invoke_tool

__all__ = ["McpEndpoint"]

logger = logging.getLogger("vns_sdk.mcp")

_UNAUTHORIZED = json.dumps(
    {"error": "unauthorized", "message": "Present the MCP token (or the webhook token) as 'Authorization: Bearer ...'."}
).encode()
_STOP_GRACE = 5.0


@dataclass
class _Running:
    loop: asyncio.AbstractEventLoop
    manager: StreamableHTTPSessionManager
    stop: asyncio.Event
    task: asyncio.Task[None]


class McpEndpoint:
    """An ASGI app serving a `ToolRouter`'s tools over MCP streamable HTTP (built by `VNSApp.serve_mcp`).

    Args:
        router: The tools to serve (those registered later are served too).
        authorize: Whether a request's raw ASGI headers carry an accepted credential.
        default_timeout: Seconds a tool without its own timeout may run.
        name: The server's name, as MCP clients see it.
        instructions: What the server is for, as MCP clients see it.
        max_body_size: The largest request body accepted, in bytes.
    """

    def __init__(
        self,
        router: ToolRouter,
        *,
        authorize: Callable[[Iterable[tuple[bytes, bytes]]], bool],
        default_timeout: float | None,
        name: str = "vns-sdk",
        instructions: str | None = None,
        max_body_size: int = 1 << 20,
    ) -> None:
        self._router = router
        self._authorize = authorize
        self._default_timeout = default_timeout
        self._max_body_size = max_body_size
        self.server: Server[Any] = Server(
            name,
            version=__version__,
            instructions=instructions,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            get_tool_input_schema=self._input_schema,
        )
        self._running: _Running | None = None

    # -- the tools --------------------------------------------------------------------------------------

    def _served(self) -> list[Tool]:
        # end_conversation ends a phone call; an MCP client has none.
        return [tool for tool in self._router if tool.fn is not end_conversation]

    def _find(self, name: str) -> Tool | None:
        tool = self._router.get(name)
        return None if tool is None or tool.fn is end_conversation else tool

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self._find(name)
        return tool.parameters if tool is not None else None

    async def _list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=tool.name, description=tool.description, input_schema=tool.parameters)
                for tool in self._served()
            ]
        )

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        # A tool called over MCP serves no phone call: its CallContext names this request, with a fresh state.
        started = time.perf_counter()
        call = CallContext(session_guid=f"mcp-{uuid.uuid4().hex}")
        if self._find(params.name) is None:
            listed = ", ".join(tool.name for tool in self._served()) or "none"
            body: dict[str, Any] = {
                "error": "unknown_tool",
                "message": f"There is no tool named {params.name[:64]!r}. The tools are: {listed}.",
            }
            outcome = "unknown_tool"
        else:
            reply = await invoke_tool(
                self._router, params.name, params.arguments or {}, call, default_timeout=self._default_timeout
            )
            body, outcome = reply.body, reply.outcome
        ok = outcome == "ok"
        logger.info(
            "mcp tools/call session=%s tool=%s outcome=%s latency_ms=%.3f",
            call.session_guid,
            ascii(params.name[:64])[1:-1],  # the client's text: one line, printable
            outcome,
            (time.perf_counter() - started) * 1000,
        )
        text = json.dumps(body, ensure_ascii=False)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)], structured_content=body, is_error=not ok
        )

    # -- serving ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the SDK's session manager in this event loop (once; again after `aclose`)."""
        loop = asyncio.get_running_loop()
        running = self._running
        if running is not None and running.loop is loop and not running.task.done():
            return
        if running is not None:
            _stop(running)  # another loop's (a finished test's, a thread's), or one that failed
        manager = StreamableHTTPSessionManager(
            app=self.server, json_response=True, stateless=True, max_request_body_size=self._max_body_size
        )
        started, stop = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            async with manager.run():
                started.set()
                await stop.wait()

        task = loop.create_task(run(), name="vns-sdk MCP endpoint")
        self._running = _Running(loop, manager, stop, task)
        waiting = loop.create_task(started.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # the manager failed to start: say why

    async def aclose(self) -> None:
        """Stop the session manager started in this event loop."""
        running, self._running = self._running, None
        if running is None:
            return
        _stop(running)
        if running.loop is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(running.task), _STOP_GRACE)
            if not running.task.done():
                running.task.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI request: refused (401) without a credential, else answered by the SDK."""
        if scope["type"] != "http":
            return
        if not self._authorize(scope["headers"]):
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                }
            )
            await send({"type": "http.response.body", "body": _UNAUTHORIZED})
            return
        await self.start()
        assert self._running is not None
        await self._running.manager.handle_request(scope, receive, send)


def _stop(running: _Running) -> None:
    """Ask the session manager's task to end, from its own loop or from another thread's."""
    try:
        if running.loop is asyncio.get_running_loop():
            running.stop.set()
        elif not running.loop.is_closed():
            running.loop.call_soon_threadsafe(running.stop.set)
    except RuntimeError:  # the loop closed in between
        pass
