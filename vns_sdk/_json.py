"""JSON in and out of vns-sdk: one codec, one policy, for request bodies, answers and call state.

The policy:

* **Decoding** accepts what Python's own ``json`` module accepts, from UTF-8 bytes or text. Anything else
  (not UTF-8, not JSON, nested deeper than the parser can follow) raises `JSONError`, never another
  exception, so a client's mistake is always a clean 400.
* **Encoding** is compact UTF-8 JSON of plain values only (str, int, finite float, bool, None, list,
  dict with str keys). A value JSON cannot hold (a ``date``, a ``set``, ``NaN``, a cycle) or text UTF-8
  cannot carry (a lone surrogate) raises `JSONError`: nothing is ever written out that another JSON
  reader, Redis or VNS would choke on.
* **Lone surrogates** (``"\\ud800"``) decode, as the stdlib allows: a tool receives its arguments as the
  model sent them. A webhook whose strings are stored or echoed asks for `loads_text`, which refuses them.

Speed matters here, since every tool call decodes a body and encodes a reply: decoding tries
pydantic-core's parser first (loaded with pydantic anyway; about half the stdlib's time on small objects)
and falls back to the stdlib for the few inputs only the stdlib accepts; encoding uses the stdlib's C
encoder built once, which is faster than both ``json.dumps`` and pydantic-core on these values.
"""

from __future__ import annotations

import json
import json.encoder
import json.scanner
import re
from typing import Any

from pydantic_core import from_json

__all__ = ["JSONError", "dumps", "dumps_text", "loads", "loads_text"]


class JSONError(ValueError):
    """A value could not be decoded or encoded under the policy above."""


_decoder = json.JSONDecoder()
_c_make_scanner = getattr(json.scanner, "c_make_scanner", None)
_scan = _c_make_scanner(_decoder) if _c_make_scanner is not None else None

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
# The C encoder without the cycle check (a cycle ends in RecursionError) and with allow_nan=False.
_c_encode = (
    _c_make_encoder(None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    if _c_make_encoder is not None
    else None
)
# A JSON escape of a surrogate (\uD800 to \uDFFF): only a body holding one can decode to a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(data: bytes | str) -> Any:
    """Decode JSON text.

    Raises:
        JSONError: ``data`` is not UTF-8 JSON, or is nested deeper than the parser follows.
    """
    try:
        return from_json(data)
    except ValueError:
        pass
    try:
        text = data.decode() if isinstance(data, bytes) else data
        if _scan is not None and text[:1] == "{" and text[-1:] == "}":
            # A compact object: scan it directly, skipping decode()'s whitespace handling.
            try:
                value, end = _scan(text, 0)
            except StopIteration:
                raise JSONError("not a JSON value") from None
            if end == len(text):
                return value
        return _decoder.decode(text)
    except JSONError:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise JSONError(f"not valid JSON: {type(exc).__name__}") from None


def loads_text(data: bytes) -> Any:
    """Decode JSON text whose every string UTF-8 can carry (no lone surrogate).

    Raises:
        JSONError: As `loads`, or a string holds a lone surrogate.
    """
    value = loads(data)
    if _SURROGATE_ESCAPE.search(data):
        dumps(value)  # raises on a lone surrogate; a surrogate pair is one character and passes
    return value


def dumps_text(value: Any) -> str:
    """Encode a plain value as compact JSON text.

    Raises:
        JSONError: The value holds something JSON cannot (a ``date``, a ``set``, ``NaN``, a cycle) or text
            UTF-8 cannot carry (a lone surrogate).
    """
    text = _encode(value)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise JSONError(_LONE_SURROGATE) from None
    return text


def dumps(value: Any) -> bytes:
    """Encode a plain value as compact UTF-8 JSON bytes (see `dumps_text`)."""
    try:
        return _encode(value).encode()
    except UnicodeEncodeError:
        raise JSONError(_LONE_SURROGATE) from None


_LONE_SURROGATE = "text holds a lone surrogate, which UTF-8 cannot carry"


def _encode(value: Any) -> str:
    if _c_encode is not None:
        try:
            return "".join(_c_encode(value, 0))
        except (TypeError, ValueError, RecursionError):
            pass  # the checked encoder below raises the telling error
    try:
        return _encoder.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise JSONError(f"not JSON-serializable: {exc}") from None
