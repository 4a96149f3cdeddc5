"""What the observability tests share: an in-memory tracing backend, and tools of each fate.

The app under test gets its own tracer and meter providers (``tracer_provider=``, ``meter_provider=``), so
the tests never set OpenTelemetry's global providers, which a process can set only once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from vns_sdk import ToolError, VNSApp
from vns_sdk.testing.realtime import RealtimeScript

WEBHOOK_TOKEN = "whk-observe-token-51c9e0a7"
OPENAI_KEY = "sk-observe-openai-key-7d2f90aa1b"

ObservedAppFactory = Callable[..., VNSApp]
"""Builds an app observed by the test's `Telemetry` (the ``observed_app`` fixture)."""

CHAT = "/vns/inspector/chat"
"""The inspector chat's routes."""
AUTH = {"Authorization": "Basic " + base64.b64encode(f"developer:{WEBHOOK_TOKEN}".encode()).decode()}
JSON = {**AUTH, "Content-Type": "application/json"}


class CRMDown(Exception):
    """What a customer's CRM client raises when the CRM is down."""


async def crm_lookup(account: str) -> dict[str, Any]:
    """Looks up an account in the CRM.

    Args:
        account: The account number.
    """
    # The message holds the OpenAI key, as a careless client's error might: it must reach no span.
    raise CRMDown(f"CRM at https://crm.example.com refused key {OPENAI_KEY}")


async def slow_search(query: str) -> dict[str, Any]:
    """Searches the archive (slowly).

    Args:
        query: What to search for.
    """
    await asyncio.sleep(5)
    return {"found": query}


def check_order(order: str) -> dict[str, Any]:
    """Says where an order is.

    Args:
        order: The order number.
    """
    if order != "A100":
        raise ToolError(f"There is no order {order}.")
    return {"order": order, "status": "shipped"}


@dataclass
class Telemetry:
    """An in-memory tracing and metrics backend for one app."""

    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        found = [span for span in self.spans() if span.name == name]
        assert len(found) == 1, f"{len(found)} spans named {name!r}: {[s.name for s in self.spans()]}"
        return found[0]

    def points(self, metric: str) -> list[tuple[dict[str, Any], Any]]:
        """``(attributes, value)`` of each data point of ``metric`` (a histogram's count, a sum's value)."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        for point in item.data.data_points:
                            found.append((dict(point.attributes or {}), getattr(point, "count", None) or point.value))
        return found

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def chat_script() -> RealtimeScript:
    """The scripted model the inspector's chat talks to in these tests."""
    script = RealtimeScript()
    script.when("Ron").call("lookup_name_or_phone", name="Ron").say("Ron Tanner is on +1 303 555 1212.")
    script.when("order").call("check_order", order="A100").say("Your order A100 has shipped.")
    script.when("bye").end_call("the caller said bye", goodbye="Goodbye!")
    script.when("slow").wait(30).say("Sorry for the wait.")
    script.when("limit").error(
        "Rate limit reached for gpt-realtime.", code="rate_limit_exceeded", type="rate_limit_exceeded"
    )
    script.when("drop").drop()
    script.otherwise().say("Sorry, could you say that again?")
    return script


def records(app: VNSApp) -> list[dict[str, Any]]:
    """Every record the feed published, and the records nested in them (a webhook's children)."""
    feed = app._runtime.feed
    assert feed is not None

    def flat(record: dict[str, Any]) -> list[dict[str, Any]]:
        return [record, *(item for child in record.get("children") or () for item in flat(child))]

    return [item for _, text in feed.since(0) for item in flat(json.loads(text))]


@contextlib.asynccontextmanager
async def client_for(app: VNSApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app in process; the app is stopped afterwards, which hangs up the chats left open."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as client:
        try:
            yield client
        finally:
            await app.shutdown()


def webhooks(app: VNSApp, session: str) -> list[tuple[str, str | None]]:
    """The call's webhooks the feed shows, as (route name, tool), in order."""
    return [
        (record["name"], record.get("tool"))
        for record in records(app)
        if record["kind"] == "webhook" and record["phase"] == "end" and record.get("session") == session
    ]


async def start(http: httpx.AsyncClient, **caller: Any) -> dict[str, Any]:
    """Start a chat (POST chat); its summary."""
    started = await http.post(CHAT, headers=JSON, json=caller)
    assert started.status_code == 201, started.text
    body: dict[str, Any] = started.json()
    return body
