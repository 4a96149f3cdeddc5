"""Which observers an app gets, from its settings: OpenTelemetry when installed, the inspector when on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vns_sdk._observe._events import EventSource, Sink
from vns_sdk._observe._feed import Feed
from vns_sdk._observe._otel import load_sink
from vns_sdk.settings import VNSSettings

__all__ = ["build_events"]


def build_events(
    settings: VNSSettings,
    *,
    scrub: Callable[[str], str],
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> tuple[EventSource | None, Feed | None]:
    """The app's event source and the inspector's feed; ``(None, None)`` when nothing would listen.

    Args:
        settings: The app's settings (``telemetry``, ``telemetry_content``, ``inspector``, ``inspector_events``).
        scrub: Masks the app's secrets in a text.
        tracer_provider: The OpenTelemetry tracer provider to use instead of the global one.
        meter_provider: The OpenTelemetry meter provider to use instead of the global one.
    """
    sinks: list[Sink] = []
    if settings.telemetry:
        otel = load_sink(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            capture_content=settings.telemetry_content,
            scrub=scrub,
        )
        if otel is not None:
            sinks.append(otel)
    feed = Feed(settings.inspector_events, scrub) if settings.inspector else None
    if feed is not None:
        sinks.append(feed)
    if not sinks:
        return None, None
    return EventSource(sinks, capture_bodies=feed is not None, scrub=scrub), feed
