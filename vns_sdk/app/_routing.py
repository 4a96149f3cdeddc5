"""The app's routes as Starlette routes: VNS's webhooks, then whatever the user adds.

`build_router` lays out a Starlette `Router` whose first routes are the webhooks. Each webhook is a
`WebhookRoute`: a raw ASGI endpoint taking the `Runtime`, matched with or without a trailing slash,
answering every `WebhookError` it raises and every wrong method (405) in one place, as JSON. The tools
route comes first and matches by prefix (every ``defaultToolsUrlAdapter`` form lives below it), because
it is the hot path of a live call. Unknown paths get one JSON 404 (the router's ``default``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Router
from starlette.types import Receive, Scope, Send

from vns_sdk._observe._events import EventSource
from vns_sdk._observe._webhook import serve_observed
from vns_sdk.app import _call_end, _call_start, _health, _tools_route
from vns_sdk.app._access_log import log_webhook
from vns_sdk.app._asgi import ClientDisconnected, answer_error, route_path, send_json
from vns_sdk.app._errors import WebhookError, error_body
from vns_sdk.app._runtime import Runtime

__all__ = ["ToolsRoute", "WebhookRoute", "build_router", "not_found"]

# endpoint(runtime, scope, receive, send), and the tools route's, which also takes the path below it.
Endpoint = Callable[..., Awaitable[None]]

_NOT_FOUND = error_body("not_found", "There is no such route.")
_WEBSOCKET_CLOSE = {"type": "websocket.close", "code": 1000}


def method_not_allowed(methods: Sequence[str]) -> WebhookError:
    """The 405 of a route that answers only ``methods``."""
    allow = ", ".join(methods)
    return WebhookError(405, "method_not_allowed", f"Use {allow} on this route.", headers=[(b"allow", allow.encode())])


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The router's default: a JSON 404 for HTTP, a plain close for a WebSocket."""
    if scope["type"] == "http":
        await send_json(send, 404, _NOT_FOUND)
    elif scope["type"] == "websocket":
        await send(_WEBSOCKET_CLOSE)


class WebhookRoute(BaseRoute):
    """A webhook at one path (a trailing slash is accepted), served by a raw ASGI endpoint.

    Args:
        path: The full path, prefix included (``/vns/call-start``).
        endpoint: ``endpoint(runtime, scope, receive, send)``; it answers success itself and raises
            `WebhookError` for anything else.
        runtime: What the endpoint is given.
        methods: The methods it answers; others get a JSON 405 with ``Allow``.
        name: The route's name (``call-start``), also the ``endpoint`` of its log lines.
        observed: Whether its requests are observed (spans, metrics, the inspector) when the app observes.
    """

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        runtime: Runtime,
        *,
        methods: Sequence[str],
        name: str,
        observed: bool = True,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.runtime = runtime
        self.methods = tuple(methods)
        self.name = name
        self.observed = observed
        self._405 = method_not_allowed(self.methods)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={list(self.methods)!r})"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = route_path(scope)
        if path == self.path or (path[:-1] == self.path and path[-1:] == "/"):
            return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        if name != self.name or path_params:
            raise NoMatchFound(name, dict(path_params))
        return URLPath(path=self.path, protocol="http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = self.runtime.events
        if events is not None and self.observed and events.listening():
            route = scope.get("root_path", "") + self.path  # the template: these routes have no parameters
            return await serve_observed(events, self.name, route, scope, receive, send, self._serve)
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            if scope["method"] not in self.methods:
                raise self._405
            await self.endpoint(self.runtime, scope, receive, send)
        except WebhookError as error:
            await answer_error(send, self.name, started, error)
        except ClientDisconnected:
            log_webhook(self.name, started, 499, "disconnected")


class ToolsRoute(WebhookRoute):
    """The tools route: ``<prefix>/tools`` and every path below it (the adapter forms), ``POST`` only."""

    def __init__(self, path: str, runtime: Runtime) -> None:
        super().__init__(path, _tools_route.tool_call, runtime, methods=("POST",), name=_tools_route.ENDPOINT)
        self._length = len(path)

    def rest(self, scope: Scope) -> str | None:
        """The path below the route (``""``, ``"/lookup"``, ...), or ``None`` when the request is not for it."""
        path = route_path(scope)
        if path.startswith(self.path) and (len(path) == self._length or path[self._length] == "/"):
            return path[self._length :]
        return None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or self.rest(scope) is None:
            return Match.NONE, {}
        return (Match.FULL if scope["method"] == "POST" else Match.PARTIAL), {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = self.runtime.events
        if events is not None and events.listening():
            return await self.observe(events, scope, receive, send)
        await self._serve(scope, receive, send)

    async def observe(self, events: EventSource, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a tool call as an observed webhook (``events`` listens)."""
        # Every adapter form is one route: its template names the part below /tools, never its values.
        route = scope.get("root_path", "") + self.path + ("/{path}" if len(self.rest(scope) or "") > 1 else "")
        await serve_observed(events, self.name, route, scope, receive, send, self._serve)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            return await answer_error(send, self.name, time.perf_counter(), self._405)
        rest = self.rest(scope)
        await _tools_route.tool_call(self.runtime, scope, receive, send, "" if rest is None else rest)


def build_router(runtime: Runtime, routes: Sequence[BaseRoute] = ()) -> Router:
    """The app's router: the webhooks under the runtime's prefix, then ``routes``, then a JSON 404."""
    prefix = runtime.prefix
    webhooks: list[BaseRoute] = [
        ToolsRoute(f"{prefix}/tools", runtime),  # first: it is the hot path, and VNSApp may call it directly
        WebhookRoute(f"{prefix}/call-start", _call_start.call_start, runtime, methods=("POST",), name="call-start"),
        WebhookRoute(f"{prefix}/call-end", _call_end.call_end, runtime, methods=("POST",), name="call-end"),
        # A load balancer's probes are not webhooks: they stay out of the traces and the inspector.
        WebhookRoute(
            f"{prefix}/health", _health.health, runtime, methods=("GET", "HEAD"), name="health", observed=False
        ),
    ]
    return Router(routes=[*webhooks, *routes], redirect_slashes=False, default=not_found)
