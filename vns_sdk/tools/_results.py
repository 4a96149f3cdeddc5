"""A tool's result as JSON: `to_jsonable`, and the check that lets a plain dict through untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["is_plain", "to_jsonable"]

# The leaves that need no check; a float must also be finite.
_SCALARS = frozenset((str, int, bool, type(None)))


def is_plain(value: Any) -> bool:
    """True when a value holds only JSON types (str keys; str, int, finite float, bool, None, list, dict)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        for key, item in value.items():
            # The common leaves are checked inline: this runs on every successful call.
            if type(key) is not str or (type(item) not in _SCALARS and not is_plain(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _SCALARS or is_plain(item) for item in value)
    return False


def to_jsonable(value: Any) -> Any:
    """Turn a tool's result into JSON-safe data (what `json.dumps` accepts, with no NaN).

    - dicts, lists, str, int, bool, None: as they are (dict keys become strings);
    - finite floats as they are; NaN and infinities become ``None`` (JSON has no such numbers);
    - pydantic models: ``model_dump(mode="json", by_alias=True)``;
    - dataclasses: an object of their fields;
    - ``datetime``, ``date``, ``time``: ISO 8601 text; ``timedelta``: seconds as a number;
    - ``UUID``, ``Decimal`` (exact) and paths: text; ``Enum``: its value;
    - tuples, sets, frozensets and other iterables pydantic knows: lists;
    - anything else pydantic can serialize (paths, IP addresses, bytes, ...) as pydantic does.

    Raises:
        TypeError: The value cannot be represented as JSON.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_jsonable(item) for item in value]
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    # Subclasses of the JSON types that are not enums.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, Decimal, PurePath)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    try:
        return to_jsonable(to_jsonable_python(value, by_alias=True))
    except PydanticSerializationError:
        raise TypeError(f"A tool result of type {kind.__qualname__} cannot be turned into JSON") from None


def _key(key: Any) -> str:
    # Keys as json.dumps writes them: 1 -> "1", True -> "true", None -> "null"; enums by value.
    if type(key) is str:
        return key
    converted = to_jsonable(key)
    return converted if isinstance(converted, str) else json.dumps(converted)
