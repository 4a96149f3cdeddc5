"""`BridgeError`, and how each failure on the Realtime side becomes one clear line.

The line says what happened and, when it helps, what to do; it never holds a key (OpenAI's own messages
are passed through the redaction the transcripts use).
"""

from __future__ import annotations

from typing import Any, Literal

from vns_sdk.exceptions import VNSError

__all__ = ["BridgeError", "FaultReason", "from_closed", "from_error", "from_handshake"]

FaultReason = Literal[
    "no_key",
    "key_refused",
    "model",
    "rate_limit",
    "refused",
    "unreachable",
    "timeout",
    "session",
    "dropped",
    "openai_error",
]


class BridgeError(VNSError):
    """The conversation with the Realtime model failed; the bridge hung up (CallEnd went out, with an error).

    Attributes:
        message: One line saying what happened.
        reason: What kind of failure: ``no_key``, ``key_refused``, ``model`` (unknown model),
            ``rate_limit``, ``refused`` (another handshake refusal), ``unreachable``, ``timeout``,
            ``session`` (the session of the CallStart answer was refused), ``dropped`` (the connection
            closed mid-call) or ``openai_error`` (any other error the model's side reported).
        status: The HTTP status of a refused handshake, if that is what happened.
        code: The error code the Realtime side gave (``invalid_api_key``, ``model_not_found``, ...), if any.
    """

    def __init__(
        self, message: str, *, reason: FaultReason, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: FaultReason = reason
        self.status = status
        self.code = code


def _clean(text: Any, limit: int = 300) -> str:
    from vns_sdk.realtime._recording import redact

    line = " ".join(str(redact(str(text))).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _classify(kind: str | None, code: str | None) -> FaultReason | None:
    words = f"{kind or ''} {code or ''}".lower()
    if "rate_limit" in words or "insufficient_quota" in words:
        return "rate_limit"
    if "model_not_found" in words or "invalid_model" in words:
        return "model"
    if "invalid_api_key" in words or "authentication" in words:
        return "key_refused"
    return None


def from_error(
    kind: str | None, code: str | None, message: str | None, *, model: str | None, where: str
) -> BridgeError:
    """The fault for an ``error`` event or a failed response (`where` says which)."""
    text = _clean(message or "no message")
    reason = _classify(kind, code)
    if reason == "rate_limit":
        return BridgeError(f"OpenAI rate limit reached ({where}): {text}", reason=reason, code=code)
    if reason == "model":
        return BridgeError(
            f"The Realtime endpoint does not know the model {model!r}, or the key may not use it: {text}",
            reason=reason,
            code=code,
        )
    if reason == "key_refused":
        return BridgeError(f"The Realtime endpoint refused the key: {text}", reason=reason, code=code)
    label = "/".join(part for part in (kind, code) if part)
    return BridgeError(
        f"The Realtime model reported an error ({where}, {label or 'no code'}): {text}",
        reason="openai_error",
        code=code,
    )


def from_handshake(exc: BaseException, *, where: str, model: str | None) -> BridgeError:
    """The fault for a connection that could not be opened (`where` is the URL, without its query)."""
    from websockets.exceptions import InvalidStatus, InvalidURI

    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        kind, code, message = _error_body(exc.response.body)
        detail = f": {_clean(message)}" if message else ""
        if status == 401:
            return BridgeError(
                f"The Realtime endpoint refused the key (HTTP 401 from {where}){detail}",
                reason="key_refused",
                status=status,
                code=code,
            )
        if status == 429 or _classify(kind, code) == "rate_limit":
            return BridgeError(
                f"OpenAI rate limit reached (HTTP {status} from {where}){detail}",
                reason="rate_limit",
                status=status,
                code=code,
            )
        if status == 404 and _classify(kind, code) == "model":
            return BridgeError(
                f"The Realtime endpoint does not know the model {model!r}{detail}",
                reason="model",
                status=status,
                code=code,
            )
        return BridgeError(
            f"The Realtime endpoint refused the connection (HTTP {status} from {where}){detail}",
            reason="refused",
            status=status,
            code=code,
        )
    if isinstance(exc, InvalidURI):
        return BridgeError(f"The Realtime URL is not a WebSocket URL: {where}", reason="unreachable")
    if isinstance(exc, TimeoutError):
        return BridgeError(f"The Realtime endpoint did not answer in time ({where})", reason="timeout")
    reason = _clean(exc) or type(exc).__name__
    return BridgeError(f"Could not reach the Realtime endpoint {where}: {reason}", reason="unreachable")


def from_closed(exc: BaseException) -> BridgeError:
    """The fault for a connection that closed while the call was live."""
    received = getattr(exc, "rcvd", None)
    code = getattr(received, "code", None)
    why = getattr(received, "reason", "") if received is not None else ""
    how = f"close code {code}" + (f", {_clean(why)}" if why else "") if code is not None else "no close frame"
    return BridgeError(f"The Realtime connection dropped mid-call ({how})", reason="dropped")


def _error_body(body: bytes | None) -> tuple[str | None, str | None, str | None]:
    import json

    try:
        error = json.loads(body or b"").get("error")
    except (ValueError, AttributeError):
        text = (body or b"").decode("utf-8", "replace").strip()
        return None, None, text or None
    if not isinstance(error, dict):
        return None, None, None
    return error.get("type"), error.get("code"), error.get("message")
