"""Keys and tokens out of everything written or shown of a webhook: transcripts, reports, failure messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "redact", "redact_headers", "redact_text"]

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"auth|token|secret|key|password|signature|cookie|credential", re.IGNORECASE)
_SECRET_TEXT = [
    # A credential after its scheme; prose ("the token is ...") has no digits, symbols or inner capitals.
    (
        re.compile(r"\b((?i:Bearer|Basic|Token))\s+(?=\S*(?:[0-9_.=+/~:-]|[a-z][A-Z]))[A-Za-z0-9._~+/=:-]{6,}"),
        rf"\1 {REDACTED}",
    ),
    (re.compile(r"\b((?i:Bearer))\s+[A-Za-z0-9._~+/=:-]{12,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), f"sk-{REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(r"([?&][^=&#\s]*(?:auth|token|secret|key|password|sig)[^=&#\s]*=)[^&#\s]*", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
]


# Fields that hold a credential whole, whatever it looks like: the OAuth token of an MCP server in the session.
_CREDENTIAL_FIELDS = frozenset({"authorization", "Authorization"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with every credential replaced by ``<redacted>`` (the scheme of ``Authorization`` is kept)."""
    cleaned = {}
    for name, value in headers.items():
        if _SECRET_NAME.search(name):
            scheme, space, _ = str(value).partition(" ")
            cleaned[name] = f"{scheme} {REDACTED}" if space and scheme.isalpha() else REDACTED
        else:
            cleaned[name] = redact_text(str(value))
    return cleaned


def redact(value: Any) -> Any:
    """A copy of a JSON value with keys and tokens replaced by ``<redacted>``.

    Every header value in the ``VoiceElements_Instructions`` of a CallStart answer is a credential (the
    OpenAI key, the tool token), as are the ``headers`` and ``authorization`` of an MCP server in the
    session; elsewhere, strings that look like bearer tokens, JWTs, ``sk-`` keys or URL parameters named
    like secrets are redacted.
    """
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if key == "headers" and isinstance(item, Mapping):
                cleaned[key] = {name: _redact_header_value(str(v)) for name, v in item.items()}
            elif key in _CREDENTIAL_FIELDS and isinstance(item, str):
                cleaned[key] = REDACTED
            else:
                cleaned[key] = redact(item)
        return cleaned
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_header_value(value: str) -> str:
    scheme, space, _ = value.partition(" ")
    return f"{scheme} {REDACTED}" if space and scheme.isalpha() else REDACTED


# What any of the patterns above needs to find: most texts have none of it, and skip the five substitutions.
_MAYBE_SECRET = re.compile(r"(?i:bearer|basic|token)|sk-|eyJ|[?&][^=&#\s]*=")


def redact_text(text: str) -> str:
    """Text with bearer tokens, JWTs, ``sk-`` keys and secret-named URL parameters replaced by ``<redacted>``."""
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text
