"""Clients of the VNS outbound-call API: `VNSClient` (sync) and `AsyncVNSClient` (async).

```python
from vns_sdk import VNSClient

with VNSClient() as vns:  # VNS_API_TOKEN (and optionally VNS_API_URL) from the environment
    vns.dial("3032639999", caller_id="7206999999", caller_id_name="Acme Dental", customer_call_id="abc123")
```

Both share `BaseVNSClient`, which does everything but I/O: it resolves the settings (through `VNSSettings`),
builds the request from one `OutboundCallRequest`, turns the answer into an `OutboundCallResponse` or an
error, and decides on retries. The two clients only send: ``dial(...)`` takes the request's fields,
``send(request)`` a ready `OutboundCallRequest`. Errors (all `VNSAPIError`):

- `VNSStatusError`: VNS answered with a non-zero ``status`` (its ``errorMessage`` is kept), an HTTP error
  code, or a body that is not the expected JSON.
- `VNSTimeoutError`: no answer in time. The call may or may not have been placed.
- `VNSConnectionError`: the request failed on the way (connection refused, reset, DNS, TLS).

A failed request is retried only when VNS cannot have received it: when the connection could not be
opened (``httpx.ConnectError``, ``httpx.ConnectTimeout``). A request that may have reached VNS is never
sent twice, since that could ring the callee twice.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from vns_sdk._client_base import DEFAULT_API_URL, BaseVNSClient

if TYPE_CHECKING:
    import httpx

    from vns_sdk.models import OutboundCallRequest, OutboundCallResponse

__all__ = ["DEFAULT_API_URL", "AsyncVNSClient", "BaseVNSClient", "VNSClient"]


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
        return self._send(self.build_request(called_number, caller_id, caller_id_name, customer_call_id))

    def send(self, call: OutboundCallRequest) -> OutboundCallResponse:
        """Ask VNS to place a call described by an `OutboundCallRequest` (`dial` with its fields in one object).

        Raises:
            VNSStatusError: VNS refused the call or answered with an error.
            VNSTimeoutError: VNS did not answer in time.
            VNSConnectionError: The request could not be sent.
        """
        return self._send(self.request_for(call))

    def _send(self, request: httpx.Request) -> OutboundCallResponse:
        import httpx

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
        return await self._send(self.build_request(called_number, caller_id, caller_id_name, customer_call_id))

    async def send(self, call: OutboundCallRequest) -> OutboundCallResponse:
        """Ask VNS to place a call described by an `OutboundCallRequest` (`dial` with its fields in one object).

        Raises:
            VNSStatusError: VNS refused the call or answered with an error.
            VNSTimeoutError: VNS did not answer in time.
            VNSConnectionError: The request could not be sent.
        """
        return await self._send(self.request_for(call))

    async def _send(self, request: httpx.Request) -> OutboundCallResponse:
        import anyio
        import httpx

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
