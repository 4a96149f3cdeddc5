"""The inspector's feed: observations as JSON records, in a bounded ring, pushed to the pages watching.

Each record is one line of JSON, secrets masked: keys and tokens are redacted as in transcripts
(`vns_sdk._redaction`), and every secret of the app's configuration is scrubbed from the whole line. A
webhook and a tool run publish a ``begin`` record when they start (the page shows them running); a
webhook publishes its ``end`` record when it is answered, holding (in ``children``) the ``end`` records
of what ran inside it: the tool run, the handlers, the store operations. A tool run's arguments and
reply are its webhook's request and answer, shown once, in the webhook's record. Records carry an
increasing ``id`` (the event stream's ids, so a page that reconnects gets only what it missed), the
observation's ``oid`` and its ``parent``'s.

The ring keeps the last ``size`` records and at most `MAX_BYTES` of them, so a busy app never grows
its memory for the page. Records are published from any thread; each watching page is woken on its
own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from vns_sdk._json import JSONError, dumps_text, loads
from vns_sdk._observe._events import (
    HandlerObservation,
    Observation,
    StoreObservation,
    ToolObservation,
    WebhookObservation,
    type_name,
)
from vns_sdk._observe._webhook import MAX_CAPTURED_BODY
from vns_sdk._redaction import redact, redact_headers, redact_text

__all__ = ["MAX_BYTES", "MAX_RECORD", "Feed", "Subscription"]

MAX_BYTES = 16 * 1024 * 1024
"""The most the ring holds, in bytes of JSON, whatever its number of records."""
MAX_RECORD = 256 * 1024
"""A record larger than this shows its bodies as their size only."""

_BULKY = ("request", "response", "state")


def _body(raw: bytearray | None) -> Any:
    """A captured body as the page shows it: its JSON, its text, or its size when too long to keep."""
    if raw is None or not raw:
        return None
    if len(raw) > MAX_CAPTURED_BODY:
        return {"(not shown)": f"{len(raw)} bytes"}
    try:
        return redact(loads(bytes(raw)))
    except JSONError:
        return redact_text(bytes(raw).decode("utf-8", "replace"))


def _decoded(state: Mapping[str, str]) -> dict[str, Any]:
    """Encoded call state (JSON per key) as values, redacted."""
    values: dict[str, Any] = {}
    for key, raw in state.items():
        try:
            values[key] = loads(raw)
        except (JSONError, TypeError):
            values[key] = raw
    return {redact_text(key): value for key, value in redact(values).items()}


class Subscription:
    """A page watching the feed: woken, on its own event loop, whenever a record is published."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Wake the page (from any thread)."""
        with contextlib.suppress(RuntimeError):  # its loop has closed: nobody is watching any more
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """Wait for a record (or ``timeout`` seconds); ``True`` if one came."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def clear(self) -> None:
        """Forget the wake-ups so far (call before reading what is new)."""
        self._event.clear()


class Feed:
    """The ring of records the inspector shows, and the sink that fills it.

    Args:
        size: How many records to keep.
        scrub: Masks the app's secrets in a text.
    """

    def __init__(self, size: int, scrub: Callable[[str], str]) -> None:
        self.size = size
        self._scrub = scrub
        self._records: deque[tuple[int, str]] = deque()
        self._bytes = 0
        self._next = 1
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()

    # -- the ring -----------------------------------------------------------------------------------------

    def publish(self, record: dict[str, Any]) -> None:
        """Add a record (an ``id`` is given to it) and wake every page."""
        with self._lock:
            record["id"] = self._next
            text = self._encode(record)
            self._records.append((self._next, text))
            self._next += 1
            self._bytes += len(text)
            while self._records and (len(self._records) > self.size or self._bytes > MAX_BYTES):
                self._bytes -= len(self._records.popleft()[1])
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.wake()

    def _encode(self, record: dict[str, Any]) -> str:
        try:
            text = dumps_text(record)
        except JSONError:
            text = ""
        if not text or len(text) > MAX_RECORD:
            for key in _BULKY:
                if record.get(key) is not None:
                    record[key] = {"(not shown)": "too large to show"}
            text = dumps_text(record)
        return self._scrub(text)

    def since(self, after: int) -> list[tuple[int, str]]:
        """The records published after the record ``after`` (0 for all that are kept), oldest first."""
        with self._lock:
            if not self._records or self._records[-1][0] <= after:
                return []
            return [item for item in self._records if item[0] > after]

    def records(self, session_guid: str) -> list[dict[str, Any]]:
        """The ``end`` records kept for one call (a webhook's children after it), oldest first."""
        found = []
        for _, text in self.since(0):
            record = loads(text)
            if record.get("session") == session_guid and record.get("phase") == "end":
                found.append(record)
                found.extend(record.pop("children", None) or ())
        return found

    def subscribe(self) -> Subscription:
        """Watch the feed from the running event loop."""
        subscription = Subscription()
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop watching."""
        with self._lock:
            self._subscribers.discard(subscription)

    # -- Sink -------------------------------------------------------------------------------------------

    def listening(self) -> bool:
        """Always: the page shows what happened before it was opened."""
        return True

    def begin(self, observation: Observation) -> None:
        if type(observation) is WebhookObservation or type(observation) is ToolObservation:
            self.publish(self._record(observation, "begin"))

    def end(self, observation: Observation) -> None:
        record = self._record(observation, "end")
        record["ms"] = round(observation.duration * 1000, 3)
        if observation.error is not None:
            record["error"] = type_name(observation.error)
        if type(observation) is WebhookObservation:
            scope = observation.scope
            query = (scope.get("query_string") or b"").decode("latin-1")
            record.update(
                status=observation.status,
                outcome=observation.outcome,
                tool=observation.tool,
                path=redact_text((scope.get("path") or "") + (f"?{query}" if query else "")),
                headers=redact_headers(
                    {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers") or ()}
                ),
                request=_body(observation.request_body),
                response=_body(observation.response_body),
            )
        elif type(observation) is ToolObservation:
            # Its arguments and reply are its webhook's request and answer, which that record shows.
            record["outcome"] = observation.outcome
            if observation.exception is not None:
                record["error"] = type_name(observation.exception)
        elif type(observation) is StoreObservation:
            record.update(found=observation.found, deleted=list(observation.deleted))
            if observation.state is not None:
                record["state"] = _decoded(observation.state)
            if observation.key is not None:
                record["key"] = redact_text(observation.key)
        if observation.records:
            record["children"] = observation.records
        parent = observation.parent
        if parent is not None and parent.source is observation.source:
            # Published with its parent, in one record: the page gets a webhook and what ran inside it at once.
            if parent.records is None:
                parent.records = []
            parent.records.append(record)
        else:
            self.publish(record)

    @staticmethod
    def _record(observation: Observation, phase: str) -> dict[str, Any]:
        parent = observation.parent
        record: dict[str, Any] = {
            "kind": observation.kind,
            "phase": phase,
            "oid": observation.oid,
            "parent": parent.oid if parent is not None and parent.source is observation.source else None,
            "at": int(observation.started_at * 1000),  # Unix time in milliseconds, as JavaScript counts it
            "session": observation.session_guid,
            "trace": observation.trace_id,
        }
        if type(observation) is WebhookObservation:
            record.update(name=observation.name, method=observation.method, route=observation.route)
        elif type(observation) is ToolObservation:
            record.update(tool=observation.name, known=observation.known)
        elif type(observation) is HandlerObservation:
            record.update(handler=observation.name, handler_phase=observation.phase)
        elif type(observation) is StoreObservation:
            record.update(operation=observation.operation, store=observation.store)
        return record
