"""The calendar MCP server of `mcp_servers`, run over stdio: ``python stdio_calendar.py``."""

from __future__ import annotations

from mcp_servers import calendar_server

if __name__ == "__main__":
    calendar_server().run("stdio")
