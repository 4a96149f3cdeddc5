"""What a worker keeps of the calls it serves with Redis: their keys and commands, records, and last state seen.

A tool call should build, encode and decode as little as it can: a call's keys and its two hot scripts are
encoded once, its record (which never changes after CallStart) decoded once, and the state this worker last
read or wrote is kept with its version, so taking the lease on a call whose state has not changed since
does not send the state back. What is kept is used only when Redis says its version is the call's, so a
copy gone stale (another worker wrote, a save whose outcome is unknown) is never read. Each is kept for at
most `KEPT` calls (the states, `KEPT_TEXT` characters in all), and forgotten when the call ends on this
worker; a call that ended on another is forgotten when this worker next asks for it or clears the lot.
"""

from __future__ import annotations

from dataclasses import dataclass

from vns_sdk._json import loads
from vns_sdk.state import _redis_scripts as scripts
from vns_sdk.state._redis_wire import Command
from vns_sdk.state.base import CallRecord

__all__ = ["KEPT", "KEPT_TEXT", "CallKeys", "Calls", "Decoded", "Seen", "split_state"]

KEPT = 4096  # calls whose keys, record and state a worker keeps
KEPT_TEXT = 16 * 2**20  # characters of state text a worker keeps, all calls together
_KINDS = ("call", "state", "ended", "lease", "done")
Decoded = tuple[CallRecord | None, str, dict[str, str]]  # a call's record, its state's version, its state


class CallKeys:
    """A call's keys, in the order the scripts name them (call, state, ended, lease, done), and its hot commands."""

    __slots__ = ("acquire", "keys", "read", "save")

    def __init__(self, prefix: str, session_guid: str) -> None:
        tag = f"{{{session_guid}}}"  # one Redis Cluster slot for every key of the call
        self.keys = call, state, ended, _, _ = [f"{prefix}{kind}:{tag}" for kind in _KINDS]
        self.acquire: Command = scripts.ACQUIRE.on(self.keys[:4])
        self.save: Command = scripts.SAVE.on(self.keys)
        self.read = Command(("MGET", ended, call, state), 0)


@dataclass(slots=True)
class Seen:
    """The state of a call as this worker last read or wrote it, at ``version``; not to be changed."""

    version: str
    record: CallRecord | None
    state: dict[str, str]
    size: int  # characters of its stored text, counted against `KEPT_TEXT`


def split_state(raw: str) -> tuple[str, str]:
    """``(version, JSON)`` of a stored state: ``<version>\\n<JSON>``, or plain JSON as earlier releases wrote it."""
    version, newline, text = raw.partition("\n")
    return (version, text) if newline else ("", raw)


class Calls:
    """The calls one worker has served, bounded to `KEPT` of each kind."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._keys: dict[str, CallKeys] = {}
        self._records: dict[str, CallRecord] = {}
        self._seen: dict[str, Seen] = {}
        self._seen_text = 0

    def keys(self, session_guid: str) -> CallKeys:
        """The call's keys and commands, built the first time they are asked for."""
        found = self._keys.get(session_guid)
        if found is None:
            found = CallKeys(self._prefix, session_guid)
            if len(self._keys) >= KEPT:
                self._keys.clear()
            self._keys[session_guid] = found
        return found

    def seen(self, session_guid: str) -> Seen | None:
        """The state this worker last read or wrote for the call, if it kept it."""
        return self._seen.get(session_guid)

    def remember(
        self, session_guid: str, version: str, record: CallRecord | None, state: dict[str, str], size: int
    ) -> None:
        """Keep the call's state at ``version``, whose stored text is ``size`` characters long (without a version
        it cannot be recognized, and a state larger than `KEPT_TEXT` is not kept)."""
        self.forget(session_guid)
        if not version or size > KEPT_TEXT:
            return
        if len(self._seen) >= KEPT or self._seen_text + size > KEPT_TEXT:
            self._seen.clear()  # a worker serving this many calls at once reads their states again
            self._seen_text = 0
        self._seen[session_guid] = Seen(version, record, state, size)
        self._seen_text += size

    def saved(
        self, session_guid: str, seen: Seen | None, version: str, state: dict[str, str] | None, size: int
    ) -> None:
        """Keep what a save that was applied left: ``state`` at ``version`` (``None``: unchanged, ``seen`` stays)."""
        if seen is not None and state is not None:  # with nothing kept of the call, its record is not known here
            self.remember(session_guid, version, seen.record, state, size)

    def forget(self, session_guid: str) -> None:
        """Drop what is kept of the call's state (it ended, or what this worker knows of it may be stale)."""
        seen = self._seen.pop(session_guid, None)
        if seen is not None:
            self._seen_text -= seen.size

    def drop(self, session_guid: str) -> None:
        """Drop everything kept of the call (it is over)."""
        self.forget(session_guid)
        self._keys.pop(session_guid, None)

    def decode(self, raw_record: str, raw_state: str) -> Decoded:
        """The record, the state's version and the state, from the stored text of each.

        Raises:
            ValueError: Either is not what the store writes.
            TypeError: The state is not a JSON object.
        """
        record = self._records.get(raw_record)
        if record is None and raw_record:
            # A call's record never changes after CallStart: decoded once per worker, not on every tool call.
            record = CallRecord.from_json(raw_record)
            if len(self._records) >= KEPT:
                self._records.clear()
            self._records[raw_record] = record
        version, text = split_state(raw_state)
        state: dict[str, str] = loads(text) if text else {}
        if not isinstance(state, dict):
            raise TypeError(f"the state is a {type(state).__name__}, not an object")
        return record, version, state
