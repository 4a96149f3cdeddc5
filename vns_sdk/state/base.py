"""The call-state store interface and the per-call state mapping.

A call's CallStart, tool calls and CallEnd may each land on a different worker, so the state of a
call lives in a store, not in a process. Values are kept JSON-encoded, one entry per key, so that
two overlapping tool calls of one call that write different keys never overwrite each other: each
request loads the state, runs, and then writes back only the keys it changed (see `CallState.diff`).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Mapping, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from vns_sdk._json import JSONError, dumps_text, loads

__all__ = ["CallParties", "CallRecord", "CallState", "CallStateStore", "decode_state", "encode_value"]


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
        """What changed since the state was loaded: ``(updates, deleted_keys)``, values JSON-encoded."""
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

    def mark_saved(self) -> None:
        """Record the current contents as saved, so the next `diff` starts from here."""
        self._loaded = self.encoded()


@dataclass(eq=False)
class CallParties:
    """Who called whom, as CallStart and CallEnd report it: the fields a call keeps from start to end.

    `CallRecord` (what the store keeps) and `CallContext` (what a handler sees) both start with these.

    Attributes:
        session_guid: VNS's identifier of the call.
        customer_call_id: The customer's identifier of the call, if any.
        caller_id: The calling number.
        caller_id_name: The caller's display name, if any.
        called_number: The number that was called (your DID, or the dialled number of an outbound call).
        outbound: Whether the call was placed through the outbound API.
    """

    session_guid: str
    customer_call_id: str | None = None
    caller_id: str | None = None
    caller_id_name: str | None = None
    called_number: str | None = None
    outbound: bool = False


@dataclass(eq=True)
class CallRecord(CallParties):
    """What the app remembers about a live call between its webhooks: its `CallParties`, and these.

    Attributes:
        max_seconds: The call's time limit, as answered at CallStart.
        started_at: Unix time at which the app answered CallStart.
    """

    max_seconds: int = 300
    started_at: float = 0.0

    def to_json(self) -> str:
        """Encode the record as JSON."""
        return dumps_text(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CallRecord:
        """Decode a record written by `to_json`."""
        return cls(**loads(raw))


class CallStateStore(abc.ABC):
    """Where call records and call state live between webhooks.

    Implementations: `MemoryCallStateStore` (one process, the default) and `RedisCallStateStore`
    (shared by every worker). Every method may raise `StateStoreError` when the backend fails.
    Every entry expires after its ``ttl`` (seconds), so nothing grows without bound.
    """

    @abc.abstractmethod
    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        """Store a new call's record and its initial (encoded) state."""

    @abc.abstractmethod
    async def load_call(self, session_guid: str) -> tuple[CallRecord, dict[str, str]] | None:
        """The call's record and encoded state, or ``None`` if it is unknown or expired."""

    @abc.abstractmethod
    async def save_state(
        self, session_guid: str, updates: Mapping[str, str], deleted: Collection[str], ttl: float
    ) -> None:
        """Apply a state diff atomically: set ``updates``, remove ``deleted``, leave other keys alone."""

    @abc.abstractmethod
    async def claim_call_end(self, session_guid: str, ttl: float) -> bool:
        """Return ``True`` the first time it is called for a call and ``False`` after (CallEnd retries)."""

    @abc.abstractmethod
    async def delete_call(self, session_guid: str) -> None:
        """Forget a call's record and state."""

    @abc.abstractmethod
    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        """Keep the (encoded) context of an outbound call until its CallStart arrives."""

    @abc.abstractmethod
    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        """Take the context stored for an outbound call, or ``None``."""

    async def ping(self) -> bool:
        """Whether the store is reachable."""
        return True

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
