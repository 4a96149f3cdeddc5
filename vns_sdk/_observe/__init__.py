"""Seeing every call: the app's one event source, and what consumes it (OpenTelemetry, the inspector page).

Layers, bottom to top: `_events` (the observations and the source, standard library only, imported by
the tools and the app); the sinks `_otel` (spans and metrics) and `_feed` (the inspector's ring buffer);
`_store` (the call-state store, observed); `_webhook` (a webhook observed at the routing level); `_copy`
(a call as a transcript or a scenario file); `_inspector` (the Starlette app of the page, and its
``static/`` assets); `_setup` (which of them an app gets, from its settings).
"""

from __future__ import annotations

__all__: list[str] = []
