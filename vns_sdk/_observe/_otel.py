"""The OpenTelemetry bridge: observations as spans and metric points, through ``opentelemetry-api``.

It follows the convention for libraries: it uses the tracer and meter providers the application set
globally (or the ones given to the app), so it needs no call of its own to switch on; without
``opentelemetry-api`` installed, `load_sink` answers ``None`` and the app has no such sink. The package is
imported once, when the first app is built, never by ``import vns_sdk``.

It follows OpenTelemetry Semantic Conventions `SEMCONV_VERSION` (the HTTP server conventions, stable,
and the GenAI ``execute_tool`` span, in development):

* a SERVER span per webhook, named ``{method} {route template}`` (never a path holding a sessionGuid),
  its parent taken from an incoming ``traceparent``; a 4xx leaves the span's status unset, a 5xx (or
  an exception before any answer) sets it to an error with ``error.type``;
* an INTERNAL ``execute_tool {tool}`` span per tool run; ``call_start {handler}`` and
  ``call_end {handler}`` spans per handler; ``call_state {operation}`` spans per store operation;
* metrics ``http.server.request.duration`` (webhooks by route and status), ``vns.tool.duration`` (by
  tool and outcome) and ``vns.calls.active`` (calls between CallStart and CallEnd, in this process).

No header is ever recorded, and every recorded text passes through the app's secret scrubber. Tool
arguments and results are recorded only with ``capture_content`` (``VNS_TELEMETRY_CONTENT``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vns_sdk._json import JSONError, dumps_text
from vns_sdk._observe._events import (
    HandlerObservation,
    Observation,
    StoreObservation,
    ToolObservation,
    WebhookObservation,
    type_name,
)
from vns_sdk._redaction import redact, redact_text
from vns_sdk._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["INSTRUMENTATION", "RECHECK_SECONDS", "SCHEMA_URL", "SEMCONV_VERSION", "OTelSink", "load_sink"]

SEMCONV_VERSION = "1.37.0"
"""The OpenTelemetry Semantic Conventions version the spans and metrics follow."""
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
INSTRUMENTATION = "vns_sdk"
RECHECK_SECONDS = 1.0
"""While no provider is configured, how often to ask OpenTelemetry again whether one is."""

_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})
# The HTTP conventions' advisory buckets for request durations, in seconds; a tool run is of that order too.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_CALL_ENDED = frozenset({"ok", "handler_error"})  # a CallEnd that ended a call (not a repeat, not a store fault)

_api: Any = None  # the opentelemetry modules, once imported; False when the package is missing
_global_sinks: dict[tuple[bool, Callable[[str], str]], OTelSink] = {}


def _opentelemetry() -> Any:
    """The ``opentelemetry`` API modules, or ``False`` without the package (imported once)."""
    global _api
    if _api is None:
        try:
            from opentelemetry import context, metrics, propagate, trace
            from opentelemetry.propagators.textmap import Getter
        except ImportError:
            _api = False
        else:

            class HeaderGetter(Getter[Sequence[tuple[bytes, bytes]]]):
                """Reads propagation headers (``traceparent``, ``tracestate``, ``baggage``) from ASGI headers."""

                def get(self, carrier: Sequence[tuple[bytes, bytes]], key: str) -> list[str] | None:
                    name = key.lower().encode("latin-1")
                    values = [value.decode("latin-1") for header, value in carrier if header == name]
                    return values or None

                def keys(self, carrier: Sequence[tuple[bytes, bytes]]) -> list[str]:
                    return [header.decode("latin-1") for header, _ in carrier]

            _api = (context, metrics, propagate, trace, HeaderGetter())
    return _api


def load_sink(
    *, tracer_provider: Any = None, meter_provider: Any = None, capture_content: bool, scrub: Callable[[str], str]
) -> OTelSink | None:
    """The OpenTelemetry sink, on the given providers or the global ones; ``None`` without the package."""
    api = _opentelemetry()
    if not api:
        return None
    if tracer_provider is not None or meter_provider is not None:
        return OTelSink(api, tracer_provider, meter_provider, capture_content=capture_content, scrub=scrub)
    # On the global providers, apps share one sink: its instruments are created once per process.
    key = (capture_content, scrub)
    sink = _global_sinks.get(key)
    if sink is None:
        sink = _global_sinks[key] = OTelSink(api, None, None, capture_content=capture_content, scrub=scrub)
    return sink


class OTelSink:
    """Turns observations into spans and metric points (see the module's docstring)."""

    def __init__(
        self, api: Any, tracer_provider: Any, meter_provider: Any, *, capture_content: bool, scrub: Callable[[str], str]
    ) -> None:
        self._context, metrics, self._propagate, self._trace, self._getter = api
        from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode

        # The global meter provider before one is set; its class is private to the API, so look it up softly
        # (if it moves, a meter provider counts as configured).
        proxy_meter: type | None = getattr(getattr(metrics, "_internal", None), "_ProxyMeterProvider", None)
        self._metrics = metrics
        self._proxies: tuple[type, type | None] = (ProxyTracerProvider, proxy_meter)
        self._configured = tracer_provider is not None or meter_provider is not None
        self._next_check = 0.0
        self._server, self._internal = SpanKind.SERVER, SpanKind.INTERNAL
        self._error = Status(StatusCode.ERROR)
        self.capture_content = capture_content
        self._scrub = scrub
        self._tracer = self._trace.get_tracer(
            INSTRUMENTATION, __version__, tracer_provider=tracer_provider, schema_url=SCHEMA_URL
        )
        meter = metrics.get_meter(INSTRUMENTATION, __version__, meter_provider=meter_provider, schema_url=SCHEMA_URL)
        self._request_duration = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of the webhook requests VNS sent.",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )
        self._tool_duration = meter.create_histogram(
            "vns.tool.duration",
            unit="s",
            description="Duration of tool runs, by tool and outcome.",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )
        self._active_calls = meter.create_up_down_counter(
            "vns.calls.active", unit="{call}", description="Calls between their CallStart and their CallEnd."
        )

    # -- Sink ---------------------------------------------------------------------------------------------

    def listening(self) -> bool:
        """Whether a tracer or meter provider is configured: ``opentelemetry-api`` alone, which other packages
        may have installed, records nothing, and a webhook is then served as if it were not installed."""
        if self._configured:
            return True
        # Asking OpenTelemetry costs a couple of microseconds (it reads the environment): ask at most once a
        # RECHECK_SECONDS. A provider is set at startup, as a rule; one set later is used within that time.
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + RECHECK_SECONDS
        tracer_proxy, meter_proxy = self._proxies
        configured = not isinstance(self._trace.get_tracer_provider(), tracer_proxy) or (
            meter_proxy is None or not isinstance(self._metrics.get_meter_provider(), meter_proxy)
        )
        # A global provider is set once and for all: from then on, nothing to check.
        self._configured = configured
        return configured

    def begin(self, observation: Observation) -> None:
        if type(observation) is WebhookObservation:
            # A traceparent from the caller makes this span its child; without one, the context in force
            # (an outer server's span, if any) is the parent.
            parent = self._propagate.extract(
                observation.scope.get("headers") or (), context=self._context.get_current(), getter=self._getter
            )
            method = observation.method if observation.method in _METHODS else "_OTHER"
            name = f"{method if method != '_OTHER' else 'HTTP'} {observation.route}"
            span = self._tracer.start_span(name, context=parent, kind=self._server)
            if span.is_recording():
                span.set_attributes(self._webhook_attributes(observation, method))
            observation.restore = self._context.attach(self._trace.set_span_in_context(span, parent))
        else:
            span = self._tracer.start_span(self._span_name(observation), kind=self._internal)
            if span.is_recording():
                span.set_attributes(self._begin_attributes(observation))
            observation.restore = self._context.attach(self._trace.set_span_in_context(span))
        observation.span = span
        if span.is_recording():
            observation.trace_id = format(span.get_span_context().trace_id, "032x")

    def end(self, observation: Observation) -> None:
        if observation.restore is not None:
            self._context.detach(observation.restore)
        span: Span | None = observation.span
        if span is None:
            return
        if type(observation) is WebhookObservation:
            self._end_webhook(span, observation)
        elif type(observation) is ToolObservation:
            self._end_tool(span, observation)
        else:
            if observation.session_guid and span.is_recording():
                span.set_attribute("gen_ai.conversation.id", observation.session_guid)
            if type(observation) is StoreObservation and span.is_recording():
                self._store_result(span, observation)
            if observation.error is not None:
                self._fail(span, type_name(observation.error), observation.error)
        span.end()

    # -- spans ------------------------------------------------------------------------------------------

    @staticmethod
    def _span_name(observation: Observation) -> str:
        if type(observation) is ToolObservation:
            # An unknown tool's name comes from the request: it stays out of the span's name.
            return f"execute_tool {observation.name}" if observation.known else "execute_tool"
        if type(observation) is HandlerObservation:
            return f"{observation.phase} {observation.name.rpartition('.')[2]}"  # its qualified name is an attribute
        if type(observation) is StoreObservation:
            return f"call_state {observation.operation}"
        return observation.kind

    def _webhook_attributes(self, observation: WebhookObservation, method: str) -> dict[str, Any]:
        scope = observation.scope
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "http.route": observation.route,
            "url.scheme": scope.get("scheme") or "http",
            "url.path": self._scrub(redact_text(scope.get("path") or "")),
        }
        if method == "_OTHER":
            attributes["http.request.method_original"] = observation.method
        query: bytes = scope.get("query_string") or b""
        if query:
            attributes["url.query"] = self._scrub(redact_text(query.decode("latin-1")))
        if scope.get("http_version"):
            attributes["network.protocol.version"] = scope["http_version"]
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        for header, value in scope.get("headers") or ():
            if header == b"user-agent":
                attributes["user_agent.original"] = self._scrub(value.decode("latin-1"))
            elif header == b"host":
                host = value.decode("latin-1")
                name, colon, port = host.rpartition(":")
                if colon and port.isdigit():  # "agent.example.com:8443", "[::1]:8000"
                    attributes["server.address"] = name.strip("[]")
                    attributes["server.port"] = int(port)
                else:
                    attributes["server.address"] = host.strip("[]")
        return attributes

    def _begin_attributes(self, observation: Observation) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if observation.session_guid:
            attributes["gen_ai.conversation.id"] = observation.session_guid
        if type(observation) is ToolObservation:
            attributes["gen_ai.operation.name"] = "execute_tool"
            attributes["gen_ai.tool.name"] = observation.name
            attributes["gen_ai.tool.type"] = "function"
            if self.capture_content:
                attributes["gen_ai.tool.call.arguments"] = self._content(observation.arguments)
        elif type(observation) is HandlerObservation:
            attributes["vns.handler.phase"] = observation.phase
            attributes["code.function.name"] = observation.name
        elif type(observation) is StoreObservation:
            attributes["vns.state.operation"] = observation.operation
            attributes["vns.state.store"] = observation.store
        return attributes

    def _end_webhook(self, span: Span, observation: WebhookObservation) -> None:
        status = observation.status
        error = observation.error
        error_type: str | None = None
        if error is not None:
            error_type = type_name(error)
        elif status is None:
            error_type = observation.outcome or "_OTHER"  # no answer at all (the client went away)
        elif status >= 500:
            error_type = str(status)
        if span.is_recording():
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if observation.session_guid:
                span.set_attribute("gen_ai.conversation.id", observation.session_guid)
            if observation.outcome:
                span.set_attribute("vns.webhook.outcome", observation.outcome)
        if error_type is not None:
            self._fail(span, error_type, error)
        # Metrics: the HTTP server duration by route and status, and the calls in progress.
        attributes: dict[str, Any] = {
            "http.request.method": observation.method if observation.method in _METHODS else "_OTHER",
            "http.route": observation.route,
            "url.scheme": observation.scope.get("scheme") or "http",
        }
        if status is not None:
            attributes["http.response.status_code"] = status
        if error_type is not None:
            attributes["error.type"] = error_type
        self._request_duration.record(observation.duration, attributes)
        if status == 200:
            if observation.name == "call-start":
                self._active_calls.add(1)
            elif observation.name == "call-end" and observation.outcome in _CALL_ENDED:
                self._active_calls.add(-1)

    def _end_tool(self, span: Span, observation: ToolObservation) -> None:
        outcome = observation.outcome or "error"
        error_type: str | None = None
        if observation.error is not None:  # escaped the tool layer: a cancellation (the client went away)
            error_type = type_name(observation.error)
        elif outcome == "error" and observation.exception is not None:
            error_type = type_name(observation.exception)
        elif outcome != "ok":
            error_type = outcome
        if span.is_recording():
            span.set_attribute("vns.tool.outcome", outcome)
            if self.capture_content and observation.reply is not None:
                span.set_attribute("gen_ai.tool.call.result", self._content(observation.reply))
        if error_type is not None:
            self._fail(span, error_type, observation.error or observation.exception)
        attributes = {
            "gen_ai.tool.name": observation.name if observation.known else "_OTHER",
            "vns.tool.outcome": outcome,
        }
        if error_type is not None:
            attributes["error.type"] = error_type
        self._tool_duration.record(observation.duration, attributes)

    @staticmethod
    def _store_result(span: Span, observation: StoreObservation) -> None:
        if observation.found is not None:
            span.set_attribute("vns.state.found", observation.found)
        if observation.operation == "save_call":
            # The names of the keys only: their values are the customer's data.
            span.set_attribute("vns.state.updated_keys", sorted(observation.state or ()))
            span.set_attribute("vns.state.deleted_keys", sorted(observation.deleted))

    def _fail(self, span: Span, error_type: str, exc: BaseException | None) -> None:
        if not span.is_recording():
            return
        span.set_attribute("error.type", error_type)
        span.set_status(self._error)
        if exc is not None:
            # Not span.record_exception: the message and the traceback go through the scrubber first.
            try:
                message = str(exc)
                stack = "".join(traceback.format_exception(exc))
            except Exception:  # an exception whose __str__ fails
                message, stack = "", ""
            span.add_event(
                "exception",
                {
                    "exception.type": type_name(exc),
                    "exception.message": self._scrub(redact_text(message)),
                    "exception.stacktrace": self._scrub(redact_text(stack)),
                },
            )

    def _content(self, value: Mapping[str, Any]) -> str:
        try:
            return self._scrub(dumps_text(redact(value)))
        except (JSONError, TypeError):
            return "<not JSON>"
