"""The library convention: on by itself with opentelemetry-api installed, on the global providers; free without it.

Each case runs in a fresh interpreter: OpenTelemetry's global providers can be set once per process, and
"not installed" means an interpreter in which ``import opentelemetry`` fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CALL = """
from vns_sdk import VNSApp
from vns_sdk.testing import VNSSimulator

app = VNSApp(webhook_token="presence-token-0123456789")

@app.tool
async def echo(text: str) -> dict:
    '''Says it back.

    Args:
        text: What to say.
    '''
    return {"text": text}

with VNSSimulator(app) as vns, vns.call() as call:
    assert call.invoke("echo", text="hi") == {"text": "hi"}
"""


def run(*parts: str) -> dict[str, object]:
    """Run the code ``parts`` in a fresh interpreter; it prints one JSON object last."""
    code = "\n".join(textwrap.dedent(part) for part in parts)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_the_global_providers_get_the_spans_with_no_call_of_vns_sdk() -> None:
    result = run(
        """
        import json
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        """,
        CALL,
        """
        spans = exporter.get_finished_spans()
        data = reader.get_metrics_data()
        names = sorted({m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics})
        scope = spans[0].instrumentation_scope
        print(json.dumps({"spans": [s.name for s in spans], "metrics": names, "scope": [scope.name, scope.schema_url]}))
        """,
    )
    assert "execute_tool echo" in result["spans"]  # type: ignore[operator]
    assert "POST /vns/call-start" in result["spans"]  # type: ignore[operator]
    assert result["metrics"] == ["http.server.request.duration", "vns.calls.active", "vns.tool.duration"]
    assert result["scope"] == ["vns_sdk", "https://opentelemetry.io/schemas/1.37.0"]


def test_without_opentelemetry_nothing_is_observed() -> None:
    result = run(
        """
        import json, sys
        sys.modules["opentelemetry"] = None  # as if it were not installed: importing it fails
        """,
        CALL,
        """
        from vns_sdk._observe import _events
        runtime = app._runtime
        print(json.dumps({
            "events": runtime.events is not None,
            "store": type(runtime.store).__name__,
            "active": _events.ACTIVE,
            "otel": any(name.startswith("opentelemetry.") for name in sys.modules),
        }))
        """,
    )
    # No source, the store not wrapped, the hooks of the hot path off: a tool call runs as if nothing existed.
    assert result == {"events": False, "store": "MemoryCallStateStore", "active": False, "otel": False}


def test_the_inspector_alone_needs_no_opentelemetry() -> None:
    result = run(
        """
        import json, sys
        sys.modules["opentelemetry"] = None
        """,
        CALL.replace(
            'VNSApp(webhook_token="presence-token-0123456789")',
            'VNSApp(webhook_token="presence-token-0123456789", inspector=True)',
        ),
        """
        def kinds(record):
            yield record["kind"]
            for child in record.get("children") or ():
                yield from kinds(child)

        seen = {kind for _, text in app._runtime.feed.since(0) for kind in kinds(json.loads(text))}
        print(json.dumps({"kinds": sorted(seen)}))
        """,
    )
    assert result == {"kinds": ["store", "tool", "webhook"]}


def test_the_api_alone_observes_nothing_until_a_provider_is_set() -> None:
    result = run(
        """
        import json
        """,
        CALL,
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        # opentelemetry-api installed (another package may need it), no provider set: nothing observed.
        events = app._runtime.events
        before = next(events.ids)

        # A provider set later (in a lifespan, say) is used within RECHECK_SECONDS: here, at once.
        from vns_sdk._observe import _otel

        _otel.RECHECK_SECONDS = 0.0
        events.sinks[0]._next_check = 0.0
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        with VNSSimulator(app) as vns, vns.call() as call:
            call.invoke("echo", text="again")
        print(json.dumps({"observations_before": before - 1, "spans": len(exporter.get_finished_spans())}))
        """,
    )
    assert result["observations_before"] == 0
    assert isinstance(result["spans"], int) and result["spans"] >= 6
