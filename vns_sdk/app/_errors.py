"""The one error every route raises for a client's mistake, and the JSON bodies of the app's errors.

Every error answer is JSON: ``{"error": "<code>", "message": "<sentence>", ...}``. A route raises
`WebhookError`; the route wrapper (`vns_sdk.app._routing`) answers it and logs the webhook's line, so
the status, the body and the log line cannot disagree. Field problems come from `vns_sdk._problems`.
"""

from __future__ import annotations

from typing import Any

from vns_sdk._json import dumps

__all__ = ["WebhookError", "error_body"]


def error_body(error: str, message: str, **extra: Any) -> bytes:
    """Encode an error answer: ``{"error": error, "message": message, **extra}``."""
    return dumps({"error": error, "message": message, **extra})


class WebhookError(Exception):
    """A request the app answers with an HTTP error (401, 404, 405, 410, 413, 400, 422, 403, ...).

    Args:
        status: The HTTP status.
        error: The machine-readable code (``"unauthorized"``, ``"malformed_json"``, ...).
        message: One sentence for the client.
        outcome: The ``outcome`` of the log line (default: ``error``).
        problems: Field problems, for a 422.
        headers: Extra response headers (``WWW-Authenticate``, ``Allow``).
        body: A body encoded in advance, for the answers sent often.
        session_guid: The call, for the log line, when it is known.
        tool: The tool, for the log line, when it is known.
    """

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        outcome: str | None = None,
        problems: list[dict[str, str]] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes | None = None,
        session_guid: str | None = None,
        tool: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.outcome = outcome or error
        self.headers = headers or []
        if body is None:
            body = error_body(error, message, problems=problems) if problems else error_body(error, message)
        self.body = body
        self.session_guid = session_guid
        self.tool = tool

    @classmethod
    def invalid_request(cls, message: str, problems: list[dict[str, str]]) -> WebhookError:
        """A 422: the body is JSON but not of the expected shape."""
        return cls(422, "invalid_request", message, problems=problems)
