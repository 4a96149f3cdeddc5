"""Real MCP servers for the MCP tests: built with the official SDK's `MCPServer`, served by uvicorn on loopback.

Test modules import it by its plain name (``from mcp_servers import ...``): pytest puts this directory on
``sys.path``.

`calendar_server()` builds a small calendar whose tools answer in every way an MCP tool can: structured
content, plain text, JSON text, an error result (``isError``), slowly, and by changing the server's own
tool list (with the "tools changed" event a 2026 client listens for). `LoopbackServer` serves an ASGI app
on a free port of 127.0.0.1 in a thread of its own, and can be stopped and started again on the same port
to play a server that goes down and comes back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

WEBHOOK_TOKEN = "whk-mcp-test-token-51c9"
CALENDAR_KEY = "cal-key-7c2e9b0d41"


class Slot(BaseModel):
    time: str
    free: bool


def calendar_server() -> MCPServer:
    """A calendar MCP server (a new one each time: its tool list can change)."""
    server = MCPServer("calendar", log_level="WARNING")
    booked: list[str] = []

    @server.tool()
    def free_slots(day: str) -> list[Slot]:
        """Lists the appointment slots of a day and whether each is free."""
        return [Slot(time=f"{day}T09:00", free="09:00" not in booked), Slot(time=f"{day}T10:00", free=True)]

    @server.tool(structured_output=False)
    def opening_hours() -> str:
        """Tells when the office is open."""
        return "Monday to Friday, 9 to 17."

    @server.tool(structured_output=False)
    def office(city: str) -> dict[str, Any]:
        """The office of a city, as JSON text."""
        return {"city": city, "phone": "+13035550100"}

    @server.tool()
    def book(day: str, time: str, name: str, note: str | None = None) -> dict[str, Any]:
        """Books an appointment.

        Args:
            day: The day, like 2025-01-31.
            time: The time, like 09:00.
            name: The caller's name.
            note: Anything the caller wants the office to know.
        """
        if time in booked:
            raise ToolError(f"{time} is already taken on {day}. Offer the caller 10:00 instead.")
        booked.append(time)
        return {"booked": True, "day": day, "time": time, "name": name}

    @server.tool()
    async def slow_search(seconds: float) -> str:
        """Searches the archive, slowly."""
        await asyncio.sleep(seconds)
        return "found"

    @server.tool(name="calendar.holidays")
    def holidays(year: int) -> list[str]:
        """The office's holidays of a year."""
        return [f"{year}-12-25"]

    @server.tool()
    async def open_waiting_list(ctx: Context) -> str:
        """Opens the waiting list: adds the join_waiting_list tool."""

        def join_waiting_list(name: str) -> str:
            """Puts the caller on the waiting list."""
            return f"{name} is on the waiting list."

        server.add_tool(join_waiting_list)
        await ctx.notify_tools_changed()
        return "The waiting list is open."

    return server


class LoopbackServer:
    """An ASGI app served by uvicorn on 127.0.0.1, in a thread; `stop` and `start` again keep the port."""

    def __init__(self, make_app: Callable[[], Any]) -> None:
        self._make_app = make_app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        config = uvicorn.Config(
            self._make_app(),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the MCP test server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)
        self._server = self._thread = None


def serve(server: MCPServer, **options: Any) -> LoopbackServer:
    """A loopback server for ``server`` (not started); each start builds a fresh app (and session manager)."""
    return LoopbackServer(lambda: server.streamable_http_app(**options))


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait (within 20 s, for a slow machine) for something that happens in the background."""
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await asyncio.sleep(0.01)
