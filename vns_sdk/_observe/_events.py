"""The app's one event source: each webhook, tool run, handler and store operation, observed once.

The routes, the tools, the handlers and the store report what they do as *observations*; the app's
`EventSource` hands each one to its sinks when it begins and when it ends. There are two sinks: the
OpenTelemetry bridge (`vns_sdk._observe._otel`: a span and metric points) and the inspector's feed
(`vns_sdk._observe._feed`: a row of the page). Both read the same observations, so the page shows the
events the spans record.

Nothing is paid when nobody listens. An app without sinks has no source (``runtime.events is None``):
its routes call their endpoints directly and its store is not wrapped. An app whose sinks would record
nothing now (``opentelemetry-api`` installed, no provider configured) serves each webhook unobserved
after asking them (`EventSource.listening`). The hooks deeper down (a tool's run, a handler, the store,
the access log line) first read the module flag `ACTIVE`, false until a source exists in the process,
then the observation in progress (a context variable), which only an observed webhook sets; with no
observation they do nothing else.

Observations nest as the work does: a tool run, a handler or a store operation started while a webhook
is observed is its child (``parent``), through the context variable, across tasks and worker threads.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from typing import Any, ClassVar, Protocol

__all__ = [
    "ACTIVE",
    "EventSource",
    "HandlerObservation",
    "Observation",
    "Sink",
    "StoreObservation",
    "ToolObservation",
    "WebhookObservation",
    "current",
    "note_exception",
    "note_webhook",
    "observe_handler",
    "type_name",
]

logger = logging.getLogger("vns_sdk.observe")

ACTIVE = False
"""Whether any `EventSource` exists in this process: the hooks of the hot path read this first."""

_current: ContextVar[Observation | None] = ContextVar("vns_sdk_observation", default=None)


class Sink(Protocol):
    """A consumer of observations: told when each begins and when it ends. It must not raise."""

    def listening(self) -> bool:
        """Whether it would record anything now (checked once per webhook: it must be cheap)."""

    def begin(self, observation: Observation) -> None:
        """An observation begins (its parent, if any, is still running)."""

    def end(self, observation: Observation) -> None:
        """An observation ends: its duration, outcome and error are known."""


class Observation:
    """One piece of work being observed.

    Attributes:
        source: The source that reports it.
        oid: Its number, unique within the source (children name their parent by it).
        parent: The observation it runs inside, if any.
        session_guid: The call it serves, once known.
        started: `time.perf_counter` at its beginning; ``duration`` (seconds) is set at its end.
        started_at: Unix time at its beginning.
        error: The exception that ended it, if one escaped.
        span, restore, trace_id: Kept by the OpenTelemetry sink (its span, the context to restore, the trace).
        records: Kept by the inspector's feed (the records of the observations that ran inside this one).
    """

    kind: ClassVar[str] = ""
    __slots__ = (
        "_token",
        "duration",
        "error",
        "oid",
        "parent",
        "records",
        "restore",
        "session_guid",
        "source",
        "span",
        "started",
        "started_at",
        "trace_id",
    )

    def __init__(self, source: EventSource, session_guid: str | None) -> None:
        self.source = source
        self.oid = next(source.ids)
        self.parent = _current.get()
        self.session_guid = session_guid
        self.started = time.perf_counter()
        self.started_at = time.time()
        self.duration = 0.0
        self.error: BaseException | None = None
        self.span: Any = None
        self.restore: Any = None
        self.trace_id: str | None = None
        self.records: list[Any] | None = None
        self._token: Token[Observation | None] | None = None


class WebhookObservation(Observation):
    """A webhook request, observed at the routing level.

    Attributes:
        name: The route's name (``tools``, ``call-start``, ``call-end``).
        method: The HTTP method.
        route: The route template (``/vns/tools/{path}``), never the path itself.
        scope: The ASGI scope (the sinks read the headers, client and scheme from it).
        status: The HTTP status answered, once sent.
        outcome: What happened, in the access log's words (``ok``, ``token_expired``, ...).
        tool: The tool called, for the tools route.
        request_body, response_body: The bodies, kept only when a sink asks for them (the inspector).
    """

    kind = "webhook"
    __slots__ = ("method", "name", "outcome", "request_body", "response_body", "route", "scope", "status", "tool")

    def __init__(self, source: EventSource, name: str, method: str, route: str, scope: Mapping[str, Any]) -> None:
        super().__init__(source, None)
        self.name = name
        self.method = method
        self.route = route
        self.scope = scope
        self.status: int | None = None
        self.outcome: str | None = None
        self.tool: str | None = None
        self.request_body: bytearray | None = None
        self.response_body: bytearray | None = None


class ToolObservation(Observation):
    """A tool run: the arguments the model sent, the reply it hears, and the outcome.

    Attributes:
        name: The tool's name, as the model called it.
        known: Whether the app has a tool of that name.
        arguments: The arguments (wire names).
        reply: The JSON object the model hears, once known.
        outcome: ``ok``, ``invalid_arguments``, ``tool_error``, ``error``, ``unknown_tool`` or ``timeout``.
        exception: The exception the tool raised, for the ``error`` outcome.
    """

    kind = "tool"
    __slots__ = ("arguments", "exception", "known", "name", "outcome", "reply")

    def __init__(self, source: EventSource, name: str, known: bool, arguments: Mapping[str, Any], guid: str) -> None:
        super().__init__(source, guid)
        self.name = name
        self.known = known
        self.arguments = arguments
        self.reply: Mapping[str, Any] | None = None
        self.outcome: str | None = None
        self.exception: BaseException | None = None


class HandlerObservation(Observation):
    """A CallStart or CallEnd handler's run.

    Attributes:
        phase: ``call_start`` or ``call_end``.
        name: The handler's qualified name.
    """

    kind = "handler"
    __slots__ = ("name", "phase")

    def __init__(self, source: EventSource, phase: str, name: str, session_guid: str | None) -> None:
        super().__init__(source, session_guid)
        self.phase = phase
        self.name = name


class StoreObservation(Observation):
    """One operation of the call-state store.

    Attributes:
        operation: The store method (``acquire_call``, ``save_call``, ...).
        store: The store's class name.
        key: What the operation is about when it is not a call (the customerCallId of a dial context).
        found: For a read, whether anything was found.
        state: The encoded state written (``start_call``), or changed (``save_call``: the updates).
        deleted: The keys removed (``save_call``).
    """

    kind = "store"
    __slots__ = ("deleted", "found", "key", "operation", "state", "store")

    def __init__(self, source: EventSource, operation: str, store: str, session_guid: str | None) -> None:
        super().__init__(source, session_guid)
        self.operation = operation
        self.store = store
        self.key: str | None = None
        self.found: bool | None = None
        self.state: Mapping[str, str] | None = None
        self.deleted: Sequence[str] = ()


class EventSource:
    """Where an app reports its observations; hands each to every sink, in order at the beginning and in
    reverse order at the end.

    Args:
        sinks: The consumers.
        capture_bodies: Whether webhook bodies are kept for the sinks (the inspector shows them).
        scrub: Masks the app's secrets in a text (exception messages, captured bodies).
    """

    __slots__ = ("capture_bodies", "ids", "scrub", "sinks")

    def __init__(self, sinks: Sequence[Sink], *, capture_bodies: bool, scrub: Callable[[str], str]) -> None:
        global ACTIVE
        ACTIVE = True
        self.sinks = tuple(sinks)
        self.capture_bodies = capture_bodies
        self.scrub = scrub
        self.ids: Iterator[int] = itertools.count(1)

    def listening(self) -> bool:
        """Whether any sink would record anything now; when none would, a webhook is served unobserved."""
        for sink in self.sinks:  # noqa: SIM110 - once per webhook: a loop costs less than any() and a generator
            if sink.listening():
                return True
        return False

    def begin(self, observation: Observation) -> None:
        """Tell the sinks ``observation`` begins, and make it the observation in progress."""
        for sink in self.sinks:
            try:
                sink.begin(observation)
            except Exception:  # a sink's fault must never cost a call
                logger.exception("observing %s failed", observation.kind)
        observation._token = _current.set(observation)

    def end(self, observation: Observation) -> None:
        """Tell the sinks ``observation`` has ended, and restore the one in progress before it."""
        observation.duration = time.perf_counter() - observation.started
        token = observation._token
        if token is not None:
            # Ended in another context than it began in: leave that context alone.
            with contextlib.suppress(ValueError):
                _current.reset(token)
        parent = observation.parent
        if type(parent) is WebhookObservation and parent.source is self and observation.session_guid:
            # A tool call's webhook learns its call and tool from the run inside it (the token named the call).
            parent.session_guid = parent.session_guid or observation.session_guid
            if type(observation) is ToolObservation:
                parent.tool = observation.name
                parent.outcome = parent.outcome or observation.outcome
        for sink in reversed(self.sinks):
            try:
                sink.end(observation)
            except Exception:
                logger.exception("observing %s failed", observation.kind)


def type_name(exc: BaseException) -> str:
    """An exception's class as ``error.type`` names it: qualified, except for the built-in ones."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def current() -> Observation | None:
    """The observation in progress in this context, if any."""
    return _current.get()


def note_webhook(status: int, outcome: str, session_guid: str | None, tool: str | None) -> None:
    """Tell the webhook observed in this context what its access log line says: outcome, call and tool."""
    observation = _current.get()
    if type(observation) is WebhookObservation:
        observation.outcome = outcome
        observation.session_guid = session_guid or observation.session_guid
        observation.tool = tool or observation.tool


def note_exception(exc: BaseException) -> None:
    """Tell the tool run observed in this context which exception it raised (its reply only says it failed)."""
    observation = _current.get()
    if type(observation) is ToolObservation:
        observation.exception = exc


async def observe_handler(phase: str, name: str, session_guid: str | None, run: Awaitable[None]) -> None:
    """Await a CallStart or CallEnd handler's ``run``, observed as a child of the webhook observed, if any."""
    parent = _current.get() if ACTIVE else None
    if parent is None:
        return await run
    source = parent.source
    observation = HandlerObservation(source, phase, name, session_guid)
    source.begin(observation)
    try:
        await run
    except BaseException as exc:
        observation.error = exc
        raise
    finally:
        source.end(observation)
