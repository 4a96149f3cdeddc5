"""Where the bridge connects, and how: the CallStart answer's ``aiUrl`` and headers, as VNS uses them.

The connection goes through the ``openai`` package's Realtime client (``AsyncOpenAI().realtime.connect``)
with the URL split into the client's ``websocket_base_url``, ``model`` and ``extra_query``, and the
answer's headers as they are: its ``Authorization`` (or ``api-key``, for Azure OpenAI) and any other. A
URL that does not end in ``/realtime`` (a gateway) cannot be expressed to that client, so its socket is
opened as given and wrapped in the same client connection class.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from vns_sdk.realtime._errors import BridgeError, from_handshake

if TYPE_CHECKING:
    from openai.resources.realtime.realtime import AsyncRealtimeConnection

__all__ = ["OpenConnection", "RealtimeTarget", "connect", "resolve_target", "shown_url"]

_AUTH_HEADERS = ("authorization", "api-key")
# Headers the openai client adds from the environment (OPENAI_ORG_ID, OPENAI_PROJECT_ID): VNS would not.
_CLIENT_ONLY_HEADERS = ("OpenAI-Organization", "OpenAI-Project")


@dataclass(frozen=True)
class RealtimeTarget:
    """Where the bridge opens one call\'s Realtime session, and with which headers.

    Attributes:
        url: The WebSocket URL, with its query string (``?model=...``).
        headers: The handshake headers (they hold the key, so they stay out of the repr).
        model: The model the URL names, if any.
        key_from_environment: Whether the key came from ``OPENAI_API_KEY`` (or the bridge's ``api_key``)
            because the answer carried no ``Authorization`` or ``api-key`` header.
    """

    url: str
    headers: dict[str, str] = field(repr=False)
    model: str | None = None
    key_from_environment: bool = False

    @property
    def where(self) -> str:
        """The URL without its user, password and query string (which may hold a key): safe to show."""
        return shown_url(self.url)


def shown_url(url: str) -> str:
    """``url`` as it may be shown: its scheme, host, port and path only (no user, password, query or fragment)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, _host_port(parts), parts.path, "", ""))


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: shown without it
        port = None
    return f"{host}:{port}" if port is not None else host


def resolve_target(
    ai_url: str, ai_headers: Mapping[str, str], *, url: str | None = None, api_key: str | None = None
) -> RealtimeTarget:
    """Where VNS would connect for this CallStart answer, and with which headers.

    Args:
        ai_url: The answer's ``aiUrl.url``.
        ai_headers: The answer's ``aiUrl.headers``.
        url: Connect here instead (a scripted server, say); the answer's headers still go with it.
        api_key: The key to use when the answer carries none (default: ``OPENAI_API_KEY``).

    Raises:
        BridgeError: The URL is not a WebSocket URL, or there is no key at all.
    """
    target = url or ai_url
    parts = urlsplit(target)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise BridgeError(
            f"The Realtime URL must be a ws:// or wss:// URL, got {parts.scheme or '?'}://{_host_port(parts)}{parts.path}",
            reason="unreachable",
        )
    headers = dict(ai_headers)
    from_environment = False
    if not any(name.lower() in _AUTH_HEADERS for name in headers):
        key = api_key or os.environ.get("OPENAI_API_KEY", "").strip()
        if not key:
            raise BridgeError(
                "No OpenAI key: the CallStart answer's aiUrl has no Authorization (or api-key) header and "
                "OPENAI_API_KEY is not set; set it (in the environment or .env) and the app sends it",
                reason="no_key",
            )
        headers["Authorization"] = f"Bearer {key}"
        from_environment = True
    model = dict(parse_qsl(parts.query)).get("model")
    return RealtimeTarget(url=target, headers=headers, model=model, key_from_environment=from_environment)


@dataclass
class OpenConnection:
    """A live Realtime connection, and the client that opened it (closed with it)."""

    connection: AsyncRealtimeConnection
    client: Any = None

    async def close(self) -> None:
        """Close the socket (normal closure) and the client; a socket already gone is no error."""
        try:
            await self.connection.close()
        except Exception:  # the peer may have dropped it already: nothing left to close
            pass
        finally:
            if self.client is not None:
                await self.client.close()


async def connect(target: RealtimeTarget, *, timeout: float) -> OpenConnection:
    """Open the Realtime connection of this target, through the ``openai`` package's client.

    Raises:
        BridgeError: The handshake was refused (a key, a rate limit, ...), timed out, or the host could
            not be reached.
    """
    try:
        return await _open(target, timeout)
    except BridgeError:
        raise
    except Exception as exc:
        fault = from_handshake(exc, where=target.where, model=target.model)
    password = urlsplit(target.url).password
    if password and password in fault.message:  # the library's own words may quote the URL
        fault = BridgeError(
            fault.message.replace(password, "***"),
            reason=fault.reason,
            status=fault.status,
            code=fault.code,
        )
    raise fault


async def _open(target: RealtimeTarget, timeout: float) -> OpenConnection:
    import asyncio

    from openai import AsyncOpenAI, Omit
    from openai.resources.realtime.realtime import AsyncRealtimeConnection

    parts = urlsplit(target.url)
    base_path, slash, last = parts.path.rstrip("/").rpartition("/")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    model = query.pop("model", None)
    options: dict[str, Any] = {"open_timeout": timeout, "max_size": None}
    if slash and last == "realtime" and model:
        headers: dict[str, Any] = dict(target.headers)
        names = {name.lower() for name in headers}
        bearer = next((v for k, v in headers.items() if k.lower() == "authorization"), "").removeprefix("Bearer ")
        if "authorization" not in names:
            headers["Authorization"] = Omit()  # the answer authenticates otherwise (Azure's api-key)
        for name in _CLIENT_ONLY_HEADERS:
            if name.lower() not in names:
                headers[name] = Omit()
        client = AsyncOpenAI(
            api_key=bearer.strip() or "none",
            websocket_base_url=urlunsplit((parts.scheme, parts.netloc, base_path, "", "")),
            max_retries=0,
        )
        manager = client.realtime.connect(
            model=model, extra_query=query, extra_headers=headers, websocket_connection_options=cast(Any, options)
        )
        try:
            return OpenConnection(await asyncio.wait_for(manager.enter(), timeout), client)
        except BaseException:
            await client.close()
            raise
    from websockets.asyncio.client import connect as open_socket

    socket = await asyncio.wait_for(open_socket(target.url, additional_headers=target.headers, **options), timeout)
    return OpenConnection(AsyncRealtimeConnection(socket))
