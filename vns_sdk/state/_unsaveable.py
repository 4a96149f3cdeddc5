"""Saying, in words, why ``call.state`` cannot hold a value: which key, which type, and where inside it.

A value is kept as JSON, so a ``date``, a ``set`` or an object of the app's own cannot be kept. The app
saves every other key, logs the keys left out, and (under the simulator and the pytest plugin) fails the
test that stored them, with the text `describe` writes.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SCOPE_KEY", "describe"]

SCOPE_KEY = "vns_sdk.state_problems"
"""The ASGI scope key under which a test harness puts a list, to be told of each value the state could not hold."""

_SCALARS = (str, int, float, bool, type(None))


def describe(key: str, value: Any) -> str:
    """Why ``call.state[key]`` cannot be saved: ``'day' holds a date``, ``'cart' holds a set at cart[1]``."""
    found = _culprit(value, repr(key)[1:-1], set())
    if found is None:  # it encodes after all (changed since): say what it is
        return f"{key!r} holds a {type(value).__name__}"
    path, what = found
    where = "" if path == repr(key)[1:-1] else f" at {path}"
    return f"{key!r} holds {what}{where}"


def _kind(value: Any) -> str:
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def _culprit(value: Any, path: str, seen: set[int]) -> tuple[str, str] | None:
    """``(path, what)`` of the first part of ``value`` JSON cannot hold, or ``None``."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return path, "text with a lone surrogate"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"the float {value!r}")
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, (list, tuple, dict)):
        if id(value) in seen:
            return path, "a reference to itself (a cycle)"
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, _SCALARS):
                        return f"{path}[{key!r}]", f"{_kind(key)} as a dict key"
                    found = _culprit(item, f"{path}[{key!r}]", seen)
                    if found is not None:
                        return found
            else:
                for index, item in enumerate(value):
                    found = _culprit(item, f"{path}[{index}]", seen)
                    if found is not None:
                        return found
        finally:
            seen.discard(id(value))
        return None
    return path, _kind(value)
