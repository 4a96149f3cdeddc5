"""`BaseVNSClient`: everything the two VNS outbound-call clients share except I/O (see `vns_sdk.client`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from vns_sdk._version import __version__
from vns_sdk.exceptions import ConfigurationError, VNSAPIError, VNSConnectionError, VNSStatusError, VNSTimeoutError
from vns_sdk.models import OutboundCallRequest, OutboundCallResponse

# httpx is imported where a client is built or used, not here: importing it also loads rich, click and
# pygments when they are installed (a tenth of a second), which `from vns_sdk import VNSClient` must not pay.
if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_API_URL", "BaseVNSClient"]

DEFAULT_API_URL = "https://ivlresttest.voiceelements.com/v1/vnsoutboundcall"
"""The outbound-call endpoint of the VNS specification, used when neither ``api_url`` nor VNS_API_URL is set."""

logger = logging.getLogger("vns_sdk.client")

_RETRY_BACKOFF = 0.1  # seconds before the first retry; doubled for each later one
_SNIPPET = 200  # characters of an unexpected body quoted in an error


def _public_url(url: str) -> str:
    """The URL without credentials or query string, fit for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _missing_from_environment(api_url: str | None, api_token: str | None) -> tuple[str | None, str | None]:
    """The URL and token, each taken from the settings (VNS_API_URL, VNS_API_TOKEN) when not given."""
    if api_url and api_token:
        return api_url, api_token
    from vns_sdk.settings import from_environment

    settings = from_environment()
    token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    return api_url or settings.api_url, api_token or token


class BaseVNSClient:
    """Everything the two clients share except I/O: settings, requests, answers, errors and retry policy.

    It takes the arguments of `VNSClient` but ``transport``, and checks them as `VNSClient` says.
    """

    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 2,
    ) -> None:
        api_url, api_token = _missing_from_environment(api_url, api_token)
        url = api_url or DEFAULT_API_URL
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigurationError(
                f"The VNS API URL must be an http(s) URL, got {_public_url(url)!r}: pass api_url=... or set VNS_API_URL"
            )
        token = (api_token or "").strip()
        if not token:
            raise ConfigurationError(
                "The VNS outbound-call API needs a token: pass api_token=... "
                "or set the VNS_API_TOKEN environment variable"
            )
        if any(char.isspace() or not char.isprintable() for char in token):
            raise ConfigurationError("The VNS API token (VNS_API_TOKEN) contains whitespace or control characters")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        import httpx

        self._url = url
        self._token = token
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.max_retries = max_retries

    @property
    def api_url(self) -> str:
        """The outbound-call endpoint requests are sent to."""
        return self._url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts of every request."""
        return self._timeout

    def __repr__(self) -> str:
        # The token never appears: not even its length or a prefix.
        return f"{type(self).__name__}(api_url={_public_url(self._url)!r})"

    def build_request(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
    ) -> httpx.Request:
        """The HTTP request that asks VNS to place a call (fields left ``None`` are not sent)."""
        return self.request_for(
            OutboundCallRequest(
                customer_call_id=customer_call_id,
                called_number=called_number,
                caller_id=caller_id,
                caller_id_name=caller_id_name,
            )
        )

    def request_for(self, call: OutboundCallRequest) -> httpx.Request:
        """The HTTP request that sends a dial request to VNS (fields left ``None`` are not sent).

        Raises:
            ValueError: The request has no called number or no caller ID.
        """
        if not call.called_number or not call.caller_id:
            raise ValueError("dial() needs a called_number and a caller_id")
        import httpx

        return httpx.Request(
            "POST",
            self._url,
            content=call.model_dump_json(by_alias=True, exclude_none=True).encode(),
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"vns-sdk/{__version__}",
            },
            extensions={"timeout": self._timeout.as_dict()},
        )

    def parse_response(self, response: httpx.Response) -> OutboundCallResponse:
        """VNS's answer as an `OutboundCallResponse`.

        Raises:
            VNSStatusError: The answer has a non-zero ``status``, an HTTP error code, or an unexpected body.
        """
        code = response.status_code
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not response.is_success:
            status, message = code, f"HTTP {code} {response.reason_phrase}".rstrip()
            if isinstance(payload, dict):
                if isinstance(payload.get("status"), int) and not isinstance(payload["status"], bool):
                    status = payload["status"]
                if payload.get("errorMessage"):
                    message = f"{message}: {payload['errorMessage']}"
            elif response.text.strip():
                message = f"{message}: {self._snippet(response.text)}"
            raise VNSStatusError(status, message, http_status=code)
        if not isinstance(payload, dict):
            kind = response.headers.get("content-type", "no content type")
            raise VNSStatusError(
                code,
                f"VNS answered HTTP {code} with a body that is not a JSON object ({kind}): "
                f"{self._snippet(response.text) or '(empty)'}",
                http_status=code,
            )
        try:
            answer = OutboundCallResponse.model_validate(payload)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(part) for part in error["loc"]) or "body" for error in exc.errors())
            raise VNSStatusError(
                code,
                f"VNS answered HTTP {code} with an unexpected JSON body (problem with: {fields}): "
                f"{self._snippet(response.text)}",
                http_status=code,
            ) from exc
        if answer.status != 0:
            raise VNSStatusError(answer.status, answer.error_message or "(no errorMessage)", http_status=code)
        return answer

    def map_error(self, exc: httpx.HTTPError) -> VNSAPIError:
        """The `VNSAPIError` for an httpx failure (to be raised ``from exc``)."""
        import httpx

        where = _public_url(self._url)
        if isinstance(exc, httpx.TimeoutException):
            return VNSTimeoutError(
                f"VNS did not answer in time ({type(exc).__name__}) at {where}; "
                "the call may or may not have been placed"
            )
        detail = str(exc).replace(self._token, "***") or "no detail"
        return VNSConnectionError(f"The request to VNS at {where} failed ({type(exc).__name__}: {detail})")

    def retry_delay(self, exc: httpx.HTTPError, retries_done: int) -> float | None:
        """Seconds to wait before retrying after ``exc``, or ``None`` when the request must not be retried.

        Only failures to open the connection are retried: then VNS never saw the request, so a retry cannot
        place a second call.
        """
        import httpx

        if not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) or retries_done >= self.max_retries:
            return None
        delay: float = _RETRY_BACKOFF * 2**retries_done
        logger.warning(
            "Could not connect to VNS at %s (%s); retry %d of %d in %.1f s",
            _public_url(self._url),
            type(exc).__name__,
            retries_done + 1,
            self.max_retries,
            delay,
        )
        return delay

    def _retry_or_raise(self, exc: httpx.HTTPError, retries_done: int) -> float:
        """The delay before the next try (`retry_delay`); raises the mapped error when there is none."""
        delay = self.retry_delay(exc, retries_done)
        if delay is None:
            raise self.map_error(exc) from exc
        return delay

    def _snippet(self, text: str) -> str:
        text = " ".join(text.split()).replace(self._token, "***")
        return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."
