"""The JSON bodies of the app's HTTP errors, and field problems made from pydantic errors.

Every error answer is JSON: ``{"error": "<code>", "message": "<sentence>", ...}``. Field problems name the
wire field and say what is wrong, without pydantic's documentation URLs or the offending input (which
could hold anything the caller sent).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

__all__ = ["error_body", "validation_problems"]


def error_body(error: str, message: str, **extra: Any) -> bytes:
    """Encode an error answer: ``{"error": error, "message": message, **extra}``."""
    return json.dumps({"error": error, "message": message, **extra}, separators=(",", ":")).encode()


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{"field": ..., "problem": ...}`` per error of ``exc``; the field is a dotted wire path."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"]) or "(body)"
        problems.append({"field": field, "problem": error["msg"]})
    return problems
