"""Authentication: the webhook credentials VNS presents, and the per-call tokens that guard tool calls.

CallStart and CallEnd carry a credential configured with VNS support (a bearer token by default). Tool
calls carry the headers the app itself answered in ``defaultToolsUrlBase.headers``: a token signed by
the app with HMAC-SHA256, bound to the call's sessionGuid and expiring with the call. Any worker with
the same configuration can check it without a lookup, and it names the call even when the tools URL
adapter leaves the sessionGuid out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Sequence

__all__ = ["ToolTokenError", "ToolTokens", "WebhookAuth"]

_DERIVATION_LABEL = b"vns-sdk tool token key v1"
_TOKEN_VERSION = "v1"
_TOKEN_VERSION_BYTES = _TOKEN_VERSION.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class WebhookAuth:
    """Checks the credentials of a CallStart or CallEnd request, in constant time.

    Args:
        tokens: Accepted tokens (several during a rotation).
        header: Header carrying the token. ``Authorization`` expects ``Bearer <token>``; any other header
            the bare token.
        basic: Accepted ``user:password`` pairs for HTTP Basic (``Authorization: Basic ...``).
    """

    __slots__ = ("_basic", "_header", "_tokens")

    def __init__(self, tokens: Sequence[str] = (), *, header: str = "Authorization", basic: Sequence[str] = ()) -> None:
        self._header = header.lower().encode("latin-1")
        self._tokens = [token.encode() for token in tokens]
        self._basic = [b"Basic " + base64.b64encode(pair.encode()) for pair in basic]

    @property
    def configured(self) -> bool:
        """Whether any credential is configured."""
        return bool(self._tokens or self._basic)

    def check(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        """Whether the raw ASGI ``headers`` carry an accepted credential."""
        presented: bytes | None = None
        authorization: bytes | None = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == self._header:
                presented = value.strip()
            if lowered == b"authorization":
                authorization = value.strip()
        ok = False
        if presented is not None and self._tokens:
            candidate = presented
            if self._header == b"authorization":
                scheme, _, rest = presented.partition(b" ")
                candidate = rest.strip() if scheme.lower() == b"bearer" else b""
            # Compare against every token without stopping early, so timing says nothing about which matched.
            for token in self._tokens:
                ok |= bool(candidate) and hmac.compare_digest(candidate, token)
        if authorization is not None and self._basic:
            scheme, _, rest = authorization.partition(b" ")
            candidate = b"Basic " + rest.strip() if scheme.lower() == b"basic" else b""
            for pair in self._basic:
                ok |= bool(candidate) and hmac.compare_digest(candidate, pair)
        return ok

    def check_browser(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        """Whether the headers carry the credentials as a browser can send them, or as VNS does.

        A browser asked for HTTP Basic credentials sends a webhook token as the password (any user name)
        or one of the configured ``user:password`` pairs; a script may present the token as VNS does.
        """
        headers = list(headers)
        if self.check(headers):
            return True
        password = b""
        for name, value in headers:
            if name.lower() == b"authorization":
                scheme, _, rest = value.strip().partition(b" ")
                if scheme.lower() == b"basic":
                    try:
                        password = base64.b64decode(rest.strip(), validate=True).partition(b":")[2]
                    except (binascii.Error, ValueError):
                        return False
        ok = False
        for token in self._tokens:
            ok |= bool(password) and hmac.compare_digest(password, token)
        return ok


class ToolTokenError(Exception):
    """A tool token is missing, malformed, forged or expired; ``reason`` says which (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ToolTokens:
    """Issues and checks per-call tool tokens: ``v1.<sessionGuid b64>.<expiry>.<HMAC-SHA256 b64>``.

    Args:
        key: The signing key (at least 16 bytes). See `ToolTokens.derive` to build one from a setting.
        clock: Source of the current Unix time (injectable for tests).
    """

    __slots__ = ("_clock", "_key", "_verified")

    # Tokens already verified (or issued here), with their sessionGuid and expiry: a call's tool calls all carry
    # the same token, so a check is a dict lookup and a clock read instead of an HMAC.
    _CACHE_SIZE = 4096

    def __init__(self, key: bytes, *, clock: Callable[[], float] | None = None) -> None:
        if len(key) < 16:
            raise ValueError("the tool token key must be at least 16 bytes")
        self._key = key
        self._clock: Callable[[], float] = clock or time.time
        self._verified: dict[bytes, tuple[str, int]] = {}

    @classmethod
    def derive(cls, secret: str, *, clock: Callable[[], float] | None = None) -> ToolTokens:
        """Build the signer from a configured secret (the tool-token secret or the first webhook credential).

        The key is an HMAC of a fixed label, so it is stable across workers and never equals the secret itself.
        """
        return cls(hmac.new(secret.encode(), _DERIVATION_LABEL, hashlib.sha256).digest(), clock=clock)

    def _sign(self, message: bytes) -> bytes:
        return hmac.digest(self._key, message, "sha256")  # the one-call form: no HMAC object per token

    def issue(self, session_guid: str, ttl: float) -> str:
        """A token for the call ``session_guid``, valid for ``ttl`` seconds from now."""
        expires = int(self._clock() + ttl)
        signed = f"{_TOKEN_VERSION}.{_b64(session_guid.encode())}.{expires}"
        token = f"{signed}.{_b64(self._sign(signed.encode()))}"
        # Signed here, so known good: the call's first tool call, if it comes to this worker, is not checked again.
        self._remember(token.encode(), session_guid, expires)
        return token

    def verify(self, token: str | bytes) -> str:
        """The sessionGuid the token was issued for; raises `ToolTokenError` if it is not valid now."""
        raw = token.encode("latin-1") if isinstance(token, str) else token
        known = self._verified.get(raw)
        if known is not None:
            if self._clock() >= known[1]:
                raise ToolTokenError("expired")
            return known[0]
        signed, _, signature = raw.rpartition(b".")
        parts = signed.split(b".")
        if len(parts) != 3 or parts[0] != _TOKEN_VERSION_BYTES:
            raise ToolTokenError("malformed")
        try:
            given = _unb64(signature.decode("ascii"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ToolTokenError("malformed") from None
        if _b64(given).encode() != signature:
            # Base64 decoding skips stray characters and the last character's spare bits: without this check
            # one signature could be spelled many ways, and each spelling would pass as the token.
            raise ToolTokenError("malformed")
        if not hmac.compare_digest(given, self._sign(signed)):
            raise ToolTokenError("bad_signature")
        try:
            expires = int(parts[2])
            session_guid = _unb64(parts[1].decode("ascii")).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ToolTokenError("malformed") from None
        if self._clock() >= expires:
            raise ToolTokenError("expired")
        self._remember(raw, session_guid, expires)
        return session_guid

    def _remember(self, raw: bytes, session_guid: str, expires: int) -> None:
        if len(self._verified) >= self._CACHE_SIZE:
            self._verified.clear()
        self._verified[raw] = (session_guid, expires)
