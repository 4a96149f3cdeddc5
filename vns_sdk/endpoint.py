"""`RealtimeEndpoint`: where VNS opens a call's Realtime session, and with which headers.

The CallStart answer's ``aiUrl`` tells VNS which WebSocket to open for the call and the headers to send
with it; the OpenAI key in them also decides which account is billed. The endpoint is OpenAI's by
default; `RealtimeEndpoint.azure` builds Azure OpenAI's, `RealtimeEndpoint.gateway` any other
``wss://`` URL (a company gateway or proxy). An app has one default (`VNSApp(realtime=...)` or the
``VNS_REALTIME_*`` settings), and a CallStart handler may choose another for one call
(``call.realtime = ...``), for example by the number that was called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from vns_sdk.exceptions import ConfigurationError

if TYPE_CHECKING:
    from vns_sdk.models import EndpointConfig

__all__ = ["OPENAI_REALTIME_URL", "RealtimeEndpoint"]

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
"""OpenAI's Realtime WebSocket URL (the model goes in its ``model`` query parameter)."""

# Header values that are not credentials: shown as they are where the others are masked.
PUBLIC_HEADERS = frozenset({"openai-organization", "openai-project", "openai-beta", "content-type", "user-agent"})


@dataclass(frozen=True)
class RealtimeEndpoint:
    """A Realtime WebSocket endpoint: its URL, the query parameter that names the model, its headers.

    Build one with `openai`, `azure` or `gateway` rather than directly.

    Attributes:
        url: The ``ws://`` or ``wss://`` URL, possibly with a query string of its own.
        headers: The handshake headers (the key lives here, so they stay out of the ``repr``).
        model_param: The query parameter that carries the session's model (``"model"``), or ``None`` when the
            URL itself decides the model (a gateway bound to one model).

    Raises:
        ConfigurationError: The URL is not a ``ws://`` or ``wss://`` URL.
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    model_param: str | None = "model"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            # Without the user part: a password there must not reach a log or a traceback.
            shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
            raise ConfigurationError(
                f"The Realtime endpoint must be a ws:// or wss:// URL, got {shown!r} (VNS opens a WebSocket to it)"
            )
        # Read-only: a call's handler that changed the app's default headers would change every later call.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @classmethod
    def openai(
        cls,
        api_key: str | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        url: str = OPENAI_REALTIME_URL,
    ) -> RealtimeEndpoint:
        """OpenAI's Realtime API: ``wss://api.openai.com/v1/realtime?model=...`` with a Bearer key.

        Args:
            api_key: The OpenAI key of the account billed for the call. Without one the answer carries no
                ``Authorization`` header (fine for local tests; VNS cannot open the session).
            organization: Sent as ``OpenAI-Organization``.
            project: Sent as ``OpenAI-Project``.
            url: Another URL in OpenAI's form (``.../realtime``, the model as ``?model=``).
        """
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        return cls(url, headers)

    @classmethod
    def azure(
        cls,
        resource: str,
        api_key: str | None = None,
        *,
        token: str | None = None,
        api_version: str | None = None,
    ) -> RealtimeEndpoint:
        """Azure OpenAI's Realtime API; the session's model is the name of your deployment.

        With no ``api_version`` this is the GA form of Azure's docs (*Use the GPT Realtime API via
        WebSockets*): ``wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment>``. With one it
        is the preview form: ``wss://<resource>.openai.azure.com/openai/realtime?api-version=<v>&deployment=<deployment>``.

        Args:
            resource: The resource name (``contoso``), or its endpoint (``https://contoso.openai.azure.com``).
            api_key: The resource's key, sent as ``api-key``. Without a key or a token the answer carries no
                credential (fine for local tests; VNS cannot open the session).
            token: A Microsoft Entra ID access token, sent as ``Authorization: Bearer`` (instead of a key).
            api_version: Use the preview URL form with this API version.

        Raises:
            ConfigurationError: Both ``api_key`` and ``token`` are given.
        """
        if api_key and token:
            raise ConfigurationError("RealtimeEndpoint.azure takes an api_key or a token, not both")
        host = resource.strip().rstrip("/")
        if "://" in host:
            host = urlsplit(host).netloc
        elif "." not in host:
            host = f"{host}.openai.azure.com"
        headers = {"api-key": api_key} if api_key else ({"Authorization": f"Bearer {token}"} if token else {})
        if api_version:
            return cls(f"wss://{host}/openai/realtime?api-version={quote(api_version)}", headers, "deployment")
        return cls(f"wss://{host}/openai/v1/realtime", headers)

    @classmethod
    def gateway(
        cls, url: str, headers: Mapping[str, str] | None = None, *, model_param: str | None = "model"
    ) -> RealtimeEndpoint:
        """Any other Realtime WebSocket endpoint (a company gateway or proxy), with the headers it needs.

        Args:
            url: The ``wss://`` URL, with any query parameters of its own.
            headers: The headers it needs (its key, a tenant, ...).
            model_param: The query parameter that carries the model, or ``None`` if the URL decides it.
        """
        return cls(url, dict(headers or {}), model_param)

    def check(self, model: str | None) -> None:
        """Refuse a model this URL cannot carry.

        Raises:
            ConfigurationError: The URL form needs a model and none is set, or the URL already names
                another model.
        """
        if self.model_param is None:
            return
        fixed = dict(parse_qsl(urlsplit(self.url).query)).get(self.model_param)
        if not model and not fixed:
            raise ConfigurationError(f"The Realtime URL carries the model in ?{self.model_param}=, but no model is set")
        if fixed and model and fixed != model:
            raise ConfigurationError(
                f"The Realtime URL names the model {fixed!r} in ?{self.model_param}=, but the session's model is "
                f"{model!r}: leave it out of the URL, or set the same model"
            )

    def ai_url(self, model: str | None) -> EndpointConfig:
        """The ``aiUrl`` of a CallStart answer for a session of ``model``.

        Raises:
            ConfigurationError: See `check`.
        """
        from vns_sdk.models import EndpointConfig

        self.check(model)
        url = self.url
        if self.model_param and model:
            parts = urlsplit(url)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != self.model_param]
            query.append((self.model_param, model))
            url = urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="-._~")))
        return EndpointConfig(url=url, headers=dict(self.headers))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The header values that are credentials (every value but `PUBLIC_HEADERS`), and their bare tokens."""
        found: list[str] = []
        for name, value in self.headers.items():
            if name.lower() not in PUBLIC_HEADERS and value:
                found.append(value)
                scheme, space, rest = value.partition(" ")
                if space and rest:
                    found.append(rest.strip())
        return tuple(found)
