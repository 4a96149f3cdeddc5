"""Mask secrets before printing them: enough to recognise a token, never enough to use it."""

from __future__ import annotations

from typing import Any

__all__ = ["mask_header", "mask_secret", "mask_secrets"]

_SECRET_KEYS = {"api_key", "apikey", "token", "client_secret", "authorization", "password", "secret"}


def mask_secret(secret: str) -> str:
    """``abc…xyz`` for a long secret, ``…`` for a short one (a few characters of a short one give too much away)."""
    return f"{secret[:3]}…{secret[-3:]}" if len(secret) >= 16 else "…"


def mask_header(value: str) -> str:
    """Mask a header value, keeping its scheme: ``Bearer sk-…xyz``."""
    scheme, space, secret = value.partition(" ")
    if space and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {mask_secret(secret)}"
    return mask_secret(value)


def mask_secrets(value: Any, *, key: str = "") -> Any:
    """A copy of a JSON value with every header value and every secret-named field masked.

    In a CallStart answer that covers the OpenAI key (``aiUrl.headers``) and the tool token
    (``defaultToolsUrlBase.headers``).

    Args:
        value: The JSON value.
        key: The key `value` was found under.
    """
    if isinstance(value, dict):
        if key.lower() == "headers":
            return {name: mask_header(text) if isinstance(text, str) else text for name, text in value.items()}
        return {name: mask_secrets(item, key=str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str) and key.lower() in _SECRET_KEYS:
        return mask_secret(value)
    return value
