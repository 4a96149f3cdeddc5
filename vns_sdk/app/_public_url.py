"""Where VNS can reach the app: the configured public URL, or one built from the request.

Behind a proxy or tunnel the request the app sees is not the one VNS sent, so the ``X-Forwarded-*`` and
``Forwarded`` headers are honoured only when the app is told to trust them: anyone can send them.
"""

from __future__ import annotations

import re

from vns_sdk.app._asgi import Scope

__all__ = ["request_base_url"]

_HOST = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def _forwarded(value: str) -> dict[str, str]:
    # RFC 7239: the first element is the one the outermost proxy added.
    pairs: dict[str, str] = {}
    for part in _first(value).split(";"):
        key, _, val = part.partition("=")
        pairs[key.strip().lower()] = val.strip().strip('"')
    return pairs


def request_base_url(scope: Scope, *, trust_forwarded: bool = False) -> str:
    """The scheme and host VNS used to reach this request (``https://agent.example.com``), no path.

    Args:
        scope: The ASGI scope of the request.
        trust_forwarded: Honour ``Forwarded`` and ``X-Forwarded-Proto``/``X-Forwarded-Host``.
    """
    headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}
    scheme = str(scope.get("scheme") or "http")
    host = headers.get(b"host", "")
    if trust_forwarded:
        if b"forwarded" in headers:
            forwarded = _forwarded(headers[b"forwarded"])
            scheme = forwarded.get("proto") or scheme
            host = forwarded.get("host") or host
        else:
            scheme = _first(headers.get(b"x-forwarded-proto", "")) or scheme
            host = _first(headers.get(b"x-forwarded-host", "")) or host
    scheme = scheme.lower() if scheme.lower() in _DEFAULT_PORTS else "http"
    if not _HOST.match(host):
        server = scope.get("server")
        if server:
            server_host, port = server[0], server[1]
            host = server_host if port in (None, _DEFAULT_PORTS[scheme]) else f"{server_host}:{port}"
        else:
            host = "localhost"
    return f"{scheme}://{host}"
