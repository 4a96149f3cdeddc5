"""`CallState`, the mapping a handler sees as ``call.state``: each value kept JSON-encoded, changes tracked.

A call's state is saved as a diff after each handler that uses it (`CallState.diff`), and values are
decoded only when read, so a tool that touches one key of a large state decodes that key only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from vns_sdk._json import JSONError, dumps_text, loads

__all__ = ["CallState", "decode_state", "encode_value"]


def encode_value(value: Any) -> str:
    """Encode one state value as compact JSON; raises `TypeError` for values JSON (or UTF-8) cannot hold."""
    try:
        return dumps_text(value)
    except JSONError as exc:
        raise TypeError(
            f"call.state values must be JSON-serializable (str, int, float, bool, None, list, dict); got {value!r}"
        ) from exc


def decode_state(encoded: Mapping[str, str]) -> dict[str, Any]:
    """Decode a mapping of JSON-encoded values."""
    return {key: loads(raw) for key, raw in encoded.items()}


class _Unread:
    """Stands for a loaded value not decoded yet (one instance, kept by copy and pickle)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unread>"

    def __reduce__(self) -> str:
        return "_UNREAD"


_UNREAD: Any = _Unread()


class CallState(MutableMapping[str, Any]):
    """The per-call state: a mutable mapping that lives from CallStart through every tool call to CallEnd.

    Values must be JSON-serializable. Changes made in place (``state["cart"].append(x)``) are seen
    too, because `diff` compares each value with its encoding when it was loaded. A loaded value is
    decoded when it is first read, so a request pays only for the keys it uses.
    """

    __slots__ = ("_data", "_loaded")

    def __init__(self, data: Mapping[str, Any] | None = None, *, encoded: Mapping[str, str] | None = None) -> None:
        self._loaded: dict[str, str] = dict(encoded) if encoded else {}
        # Every key, in order; a loaded value stays _UNREAD until it is read.
        self._data: dict[str, Any] = dict.fromkeys(self._loaded, _UNREAD)
        if data:
            self._data.update(data)

    @classmethod
    def _from_store(cls, encoded: dict[str, str]) -> CallState:
        """The state of a fresh load; takes ``encoded`` over (the caller must not keep or change it)."""
        state = cls.__new__(cls)
        state._loaded = encoded
        state._data = dict.fromkeys(encoded, _UNREAD) if encoded else {}
        return state

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if value is _UNREAD:
            value = self._data[key] = loads(self._loaded[key])
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"call.state keys must be strings, not {type(key).__name__}")
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data  # without decoding the value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"CallState({self.to_dict()!r})"

    def clear(self) -> None:
        self._data.clear()

    def to_dict(self) -> dict[str, Any]:
        """A plain-dict copy of the state."""
        return {key: self[key] for key in self._data}

    def encoded(self) -> dict[str, str]:
        """Every entry, JSON-encoded."""
        loaded = self._loaded
        return {key: loaded[key] if value is _UNREAD else encode_value(value) for key, value in self._data.items()}

    def diff(self) -> tuple[dict[str, str], list[str]]:
        """What changed since the state was loaded: ``(updates, deleted_keys)``, values JSON-encoded.

        Raises:
            TypeError: A value cannot be held (JSON or UTF-8 cannot encode it).
        """
        data = self._data
        loaded = self._loaded
        if not data and not loaded:
            return {}, []  # the usual tool call of a call without state
        updates: dict[str, str] = {}
        for key, value in data.items():
            if value is _UNREAD:
                continue  # never read, so unchanged
            raw = encode_value(value)
            if loaded.get(key) != raw:
                updates[key] = raw
        deleted = [key for key in loaded if key not in data] if loaded else []
        return updates, deleted

    def saveable_diff(self) -> tuple[dict[str, str], list[str], list[str]]:
        """`diff` without the keys whose values cannot be held: ``(updates, deleted_keys, unsaveable_keys)``.

        What can be saved still is, when one value cannot: only the keys listed last are left out.
        """
        try:
            updates, deleted = self.diff()
        except TypeError:
            pass
        else:
            return updates, deleted, []
        loaded = self._loaded
        updates, unsaveable = {}, []
        for key, value in self._data.items():
            if value is _UNREAD:
                continue
            try:
                raw = encode_value(value)
            except TypeError:
                unsaveable.append(key)
                continue
            if loaded.get(key) != raw:
                updates[key] = raw
        deleted = [key for key in loaded if key not in self._data]
        return updates, deleted, unsaveable

    def mark_saved(self) -> None:
        """Record the current contents as saved, so the next `diff` starts from here."""
        self._loaded = self.encoded()
