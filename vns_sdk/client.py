"""Clients of the VNS outbound-call API: `VNSClient` (sync) and `AsyncVNSClient` (async).

```python
from vns_sdk import VNSClient

with VNSClient() as vns:  # VNS_API_TOKEN (and optionally VNS_API_URL) from the environment
    vns.dial("3032639999", caller_id="7206999999", caller_id_name="Acme Dental", customer_call_id="abc123")
```

Both share `BaseVNSClient`, which does everything but I/O: it resolves the settings, builds the request,
turns the answer into an `OutboundCallResponse` or an error, and decides on retries. The two clients only
send. Errors (all `VNSAPIError`):

- `VNSStatusError`: VNS answered with a non-zero ``status`` (its ``errorMessage`` is kept), an HTTP error
  code, or a body that is not the expected JSON.
- `VNSTimeoutError`: no answer in time. The call may or may not have been placed.
- `VNSConnectionError`: the request failed on the way (connection refused, reset, DNS, TLS).

A failed request is retried only when VNS cannot have received it: when the connection could not be
opened (``httpx.ConnectError``, ``httpx.ConnectTimeout``). A request that may have reached VNS is never
sent twice, since that could ring the callee twice.
"""

from __future__ import annotations

import logging
import os
import time
from types import TracebackType
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

__all__ = ["DEFAULT_API_URL", "AsyncVNSClient", "BaseVNSClient", "VNSClient"]

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


class BaseVNSClient:
    """Everything the two clients share except I/O: settings, requests, answers, errors and retry policy.

    Args:
        api_url: The outbound-call endpoint. Defaults to VNS_API_URL, then to `DEFAULT_API_URL`.
        api_token: The VNS API token, sent as ``Authorization: Bearer <token>``. Defaults to VNS_API_TOKEN.
        timeout: Seconds to wait for VNS (a float for every phase, or an `httpx.Timeout`).
        max_retries: How many times to retry a request whose connection could not be opened.

    Raises:
        ConfigurationError: No token is given or set in VNS_API_TOKEN, or the URL is not http(s).
    """

    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 2,
    ) -> None:
        url = api_url or os.environ.get("VNS_API_URL") or DEFAULT_API_URL
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigurationError(
                f"The VNS API URL must be an http(s) URL, got {_public_url(url)!r}: pass api_url=... or set VNS_API_URL"
            )
        token = (api_token or os.environ.get("VNS_API_TOKEN") or "").strip()
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
        if not called_number or not caller_id:
            raise ValueError("dial() needs a called_number and a caller_id")
        import httpx

        body = OutboundCallRequest(
            customer_call_id=customer_call_id,
            called_number=called_number,
            caller_id=caller_id,
            caller_id_name=caller_id_name,
        )
        return httpx.Request(
            "POST",
            self._url,
            content=body.model_dump_json(by_alias=True, exclude_none=True).encode(),
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


class VNSClient(BaseVNSClient):
    """Places outbound calls through VNS (synchronous, over `httpx.Client`).

    ```python
    with VNSClient(api_token="...") as vns:
        answer = vns.dial("3032639999", caller_id="7206999999", customer_call_id="abc123")
    ```

    Args:
        api_url: The outbound-call endpoint. Defaults to VNS_API_URL, then to `DEFAULT_API_URL`.
        api_token: The VNS API token, sent as ``Authorization: Bearer <token>``. Defaults to VNS_API_TOKEN.
        timeout: Seconds to wait for VNS (a float for every phase, or an `httpx.Timeout`).
        transport: An httpx transport to send through (``httpx.MockTransport`` in tests).
        max_retries: How many times to retry a request whose connection could not be opened.

    Raises:
        ConfigurationError: No token is given or set in VNS_API_TOKEN, or the URL is not http(s).
    """

    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 2,
    ) -> None:
        super().__init__(api_url=api_url, api_token=api_token, timeout=timeout, max_retries=max_retries)
        import httpx

        self._http = httpx.Client(transport=transport, timeout=self._timeout)

    def dial(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
    ) -> OutboundCallResponse:
        """Ask VNS to call ``called_number`` from ``caller_id``.

        Args:
            called_number: The number to call.
            caller_id: The number the callee sees (one of your DIDs).
            caller_id_name: The name the callee sees, if any.
            customer_call_id: Your identifier of the call; VNS sends it back in the call's CallStart and CallEnd.

        Returns:
            VNS's answer (its ``status`` is 0).

        Raises:
            VNSStatusError: VNS refused the call or answered with an error.
            VNSTimeoutError: VNS did not answer in time.
            VNSConnectionError: The request could not be sent.
        """
        import httpx

        request = self.build_request(called_number, caller_id, caller_id_name, customer_call_id)
        retries = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.HTTPError as exc:
                time.sleep(self._retry_or_raise(exc, retries))
                retries += 1
            else:
                return self.parse_response(response)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> VNSClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncVNSClient(BaseVNSClient):
    """Places outbound calls through VNS (asynchronous, over `httpx.AsyncClient`).

    ```python
    async with AsyncVNSClient(api_token="...") as vns:
        answer = await vns.dial("3032639999", caller_id="7206999999", customer_call_id="abc123")
    ```

    Args:
        api_url: The outbound-call endpoint. Defaults to VNS_API_URL, then to `DEFAULT_API_URL`.
        api_token: The VNS API token, sent as ``Authorization: Bearer <token>``. Defaults to VNS_API_TOKEN.
        timeout: Seconds to wait for VNS (a float for every phase, or an `httpx.Timeout`).
        transport: An httpx transport to send through (``httpx.MockTransport`` in tests).
        max_retries: How many times to retry a request whose connection could not be opened.

    Raises:
        ConfigurationError: No token is given or set in VNS_API_TOKEN, or the URL is not http(s).
    """

    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 2,
    ) -> None:
        super().__init__(api_url=api_url, api_token=api_token, timeout=timeout, max_retries=max_retries)
        import httpx

        self._http = httpx.AsyncClient(transport=transport, timeout=self._timeout)

    async def dial(
        self,
        called_number: str,
        caller_id: str,
        caller_id_name: str | None = None,
        customer_call_id: str | None = None,
    ) -> OutboundCallResponse:
        """Ask VNS to call ``called_number`` from ``caller_id``.

        Args:
            called_number: The number to call.
            caller_id: The number the callee sees (one of your DIDs).
            caller_id_name: The name the callee sees, if any.
            customer_call_id: Your identifier of the call; VNS sends it back in the call's CallStart and CallEnd.

        Returns:
            VNS's answer (its ``status`` is 0).

        Raises:
            VNSStatusError: VNS refused the call or answered with an error.
            VNSTimeoutError: VNS did not answer in time.
            VNSConnectionError: The request could not be sent.
        """
        import anyio
        import httpx

        request = self.build_request(called_number, caller_id, caller_id_name, customer_call_id)
        retries = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                await anyio.sleep(self._retry_or_raise(exc, retries))
                retries += 1
            else:
                return self.parse_response(response)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncVNSClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
