"""`RoutedApp`: the ASGI side of `VNSApp`, a Starlette router with the app's own lifespan and error answer.

It holds what any ASGI application built on Starlette's routing holds (routes, mounts, middleware, a
lifespan) and nothing of VNS: `VNSApp` adds the webhooks' meaning on top.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp

from vns_sdk.app._access_log import logger
from vns_sdk.app._asgi import Receive, Scope, Send, send_json
from vns_sdk.app._errors import error_body
from vns_sdk.app._routing import ToolsRoute
from vns_sdk.app._tools_route import tool_call

__all__ = ["RoutedApp"]

_INTERNAL_ERROR = error_body("internal_error", "The app failed to answer; its log says why.")


class RoutedApp:
    """An ASGI app serving a Starlette `Router` whose first route is the tools route.

    Args:
        router: The routes (see `build_router`).
        middleware: Starlette middleware wrapped around every route.
    """

    def __init__(self, router: Router, middleware: Sequence[Middleware] = ()) -> None:
        self._routing = router
        self._tools: ToolsRoute = router.routes[0]  # type: ignore[assignment]
        self._middleware: list[Middleware] = list(middleware)
        self._stack: ASGIApp | None = None

    async def startup(self) -> None:
        """Start serving (the ASGI lifespan calls it)."""

    async def shutdown(self) -> None:
        """Stop serving (the ASGI lifespan calls it)."""

    @property
    def routes(self) -> list[BaseRoute]:
        """The app's Starlette routes: the webhooks first, then the routes and mounts added."""
        return self._routing.routes

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Serve ``endpoint`` (a Starlette endpoint) at ``path``, as `starlette.applications.Starlette.add_route`."""
        self._routing.routes.append(
            Route(
                path,
                endpoint,
                methods=list(methods) if methods else None,
                name=name,
                include_in_schema=include_in_schema,
            )
        )

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve another ASGI app below ``path``, as `starlette.applications.Starlette.mount`."""
        self._routing.routes.append(Mount(path, app=app, name=name))

    def add_middleware(self, middleware_class: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        """Wrap every route in a Starlette middleware; the last one added is the outermost.

        Raises:
            RuntimeError: The app has already started serving.
        """
        if self._stack is not None:
            raise RuntimeError("Cannot add middleware after the app has started serving.")
        self._middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route named ``name`` (``"call-start"``, ``"tools"``, or one of yours)."""
        return str(self._routing.url_path_for(name, **path_params))

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

    def _build_stack(self) -> ASGIApp:
        app: ASGIApp = self._routing
        for cls, args, kwargs in reversed(self._middleware):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        try:
            if scope["type"] == "http":
                if not self._middleware:
                    # The tools route is the router's first route and the hot path of a live call: without
                    # middleware to pass through, answer it directly, skipping the router's bookkeeping.
                    tools = self._tools
                    rest = tools.rest(scope)
                    if rest is not None and scope["method"] == "POST":
                        events = tools.runtime.events
                        if events is not None and events.listening():
                            return await tools.observe(events, scope, receive, send)  # observed at the route
                        return await tool_call(tools.runtime, scope, receive, send, rest)
            elif scope["type"] == "lifespan":
                return await self._serve_lifespan(receive, send)
            stack = self._stack
            if stack is None:
                stack = self._stack = self._build_stack()
            await stack(scope, receive, send)
        except Exception:
            # A fault of the app itself (a client's mistake has its own answer): log it, answer JSON if still possible.
            logger.exception("%s %s failed", scope.get("method", scope["type"]), scope.get("path", ""))
            if scope["type"] == "http":
                with contextlib.suppress(Exception):
                    await send_json(send, 500, _INTERNAL_ERROR)
