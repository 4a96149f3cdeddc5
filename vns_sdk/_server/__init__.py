"""The production server behind ``vns-sdk serve``: uvicorn, configured for webhooks a phone call waits on.

What it adds to uvicorn:

- ``TCP_NODELAY`` on every accepted connection, whatever the worker count, the event loop or the way the
  listening socket was made (`nodelay`);
- a request's head (request line and headers) bounded in time and size, which uvicorn leaves open (`head`);
- the fast HTTP parser and event loop when they are installed (the ``server`` extra), the pure-Python ones
  otherwise, and a listening socket passed as a file descriptor taken for what it really is (`launch`).
"""

from __future__ import annotations

from vns_sdk._server.launch import (
    EXTRA_HINT,
    STARTUP_FAILURE,
    ServerOptions,
    build_config,
    event_loop,
    fast_loop_available,
    fast_parser_available,
    http_parser,
    http_protocol,
    run,
)

__all__ = [
    "EXTRA_HINT",
    "STARTUP_FAILURE",
    "ServerOptions",
    "build_config",
    "event_loop",
    "fast_loop_available",
    "fast_parser_available",
    "http_parser",
    "http_protocol",
    "run",
]
