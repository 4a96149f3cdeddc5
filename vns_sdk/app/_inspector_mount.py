"""The inspector in the app: mounted at ``<prefix>/inspector/``, behind the webhook credentials, with its chat."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vns_sdk._observe._chat_place import InProcessCalls
from vns_sdk._observe._chat_room import ChatRoom
from vns_sdk._observe._inspector import inspector_app
from vns_sdk.app._access_log import redactor
from vns_sdk.app._routed import RoutedApp
from vns_sdk.app._runtime import Runtime

__all__ = ["mount_inspector"]


async def _with_slash(request: Request) -> Response:
    # The page's script and event stream are addressed relative to it: it must be served as a folder.
    return RedirectResponse(request.url.path + "/", status_code=307)


def mount_inspector(app: RoutedApp, runtime: Runtime) -> ChatRoom | None:
    """Mount the inspector of ``runtime``'s feed in ``app`` (Starlette's ``app.mount``); return its chats.

    Without webhook credentials (insecure development) the page is open, as every route then is; with them,
    it asks for them (a browser: any user name, a webhook token as the password). Its chat places its calls
    on ``app`` itself, in process, with those credentials, so they are observed as any call is.
    """
    if runtime.feed is None:
        return None
    path = f"{runtime.prefix}/inspector"
    authorized = None if runtime.insecure else runtime.webhook_auth.check_browser
    chat = ChatRoom(
        InProcessCalls(app), endpoint=runtime.realtime, scrub=redactor.scrub, body_timeout=runtime.body_timeout
    )
    app.add_route(path, _with_slash, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(
        path,
        inspector_app(runtime.feed, authorized=authorized, app_reference=runtime.settings.inspector_app, chat=chat),
    )
    return chat
