"""What one tool call costs through VNSApp, next to the same work written by hand.

Run from the repository root:

    python bench/tool_call.py            # or: python bench/tool_call.py --rounds 21 --calls 3000
    python bench/tool_call.py --profile vnsapp   # one variant under cProfile instead
    python bench/tool_call.py --otel             # also: the cost of OpenTelemetry, SDK with no-op exporters
    python bench/tool_call.py --otel api         # ... and of opentelemetry-api installed with no provider set

Everything runs in one process, driven through raw ASGI (no network, no server), so the figures are
the frameworks' own costs. Five ASGI applications answer the same tool call, the seed's
``{"VoiceElements_InvokeTool": {...}, "name": "Ron"}`` for ``lookup_name_or_phone``:

* ``vnsapp``: a `VNSApp` (per-call token check, JSON parse, argument validation, call-state load from
  the in-memory store, the tool, JSON answer), after a real CallStart issued the token;
* ``starlette``: a hand-written Starlette endpoint doing the same work (bearer check with
  ``hmac.compare_digest``, ``await request.json()``, a pydantic model for the arguments, the function,
  ``JSONResponse``), without call state;
* ``fastapi``: the same as a FastAPI endpoint (a pydantic body model and a ``Header`` parameter), answering
  with a ``JSONResponse`` as the Starlette endpoint does (a returned dict would also be validated and
  re-serialized through a response model, work the other variants do not do);
* ``tuned``: the Starlette endpoint with pydantic-core's JSON parser and serializer (the codec VNSApp
  uses) instead of ``request.json()`` and ``JSONResponse``: what the stdlib JSON costs the hand-written
  endpoint;
* ``floor``: an ASGI callable that only reads the body and sends a fixed answer;
* ``vnsapp-sync``: the `VNSApp` of ``vnsapp`` with the tool written as a plain ``def``, which VNSApp runs
  in a worker thread;
* ``threaded``: the Starlette endpoint sending that same ``def`` to a worker thread
  (``starlette.concurrency.run_in_threadpool``), as a hand-written app must for blocking code.

OpenTelemetry is made absent for the run (``import opentelemetry`` fails, as without the ``otel`` extra),
so ``vnsapp`` is what an app without it costs. With ``--otel`` it is present instead, its SDK configured
as the global providers with exporters that do nothing (spans through a ``BatchSpanProcessor``, metrics
through a ``PeriodicExportingMetricReader``), and two variants are added:

* ``vnsapp-otel``: the ``vnsapp`` app with telemetry on (a SERVER span, the ``execute_tool`` and store
  spans, the metric points); ``vnsapp`` itself is then built with ``telemetry=False``;
* ``vnsapp-inspect``: the ``vnsapp`` app with the inspector on and telemetry off (no page watching).

With ``--otel api`` the API is present but no provider is set (a package installed it, nobody configured
it): ``vnsapp-otel`` then shows what asking costs.

The rounds alternate between the variants, so a slow moment of the machine costs each the same; the
median over rounds of the per-call time is reported, with the ratios to the Starlette endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hmac
import json
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastapi
import pydantic
import starlette
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import from_json, to_json
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vns_sdk.app import VNSApp

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

WEBHOOK_TOKEN = "bench-webhook-token-0123456789"
STATIC_TOOL_TOKEN = "bench-static-tool-token-0123456789"
SESSION_GUID = "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"
DIRECTORY = {"Ron Tanner": "+13035551212"}


async def lookup_name_or_phone(
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, Any]:
    """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    for contact, number in DIRECTORY.items():
        if name and name.lower() in contact.lower():
            return {"matchType": "name", "contactFound": True, "contactName": contact, "phoneNumber": number}
        if phone_number and phone_number == number:
            return {"matchType": "phone", "contactFound": True, "contactName": contact, "phoneNumber": number}
    return {"matchType": "name" if name else "phone", "contactFound": False}


def lookup_name_or_phone_sync(
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, Any]:
    """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    for contact, number in DIRECTORY.items():
        if name and name.lower() in contact.lower():
            return {"matchType": "name", "contactFound": True, "contactName": contact, "phoneNumber": number}
        if phone_number and phone_number == number:
            return {"matchType": "phone", "contactFound": True, "contactName": contact, "phoneNumber": number}
    return {"matchType": "name" if name else "phone", "contactFound": False}


# -- the hand-written endpoints ---------------------------------------------------------------------------


class LookupArguments(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    name: str | None = None
    phone_number: str | None = Field(default=None, alias="phoneNumber")


class InvokeTool(BaseModel):
    toolName: str
    sessionGuid: str | None = None
    customerCallId: str | None = None


class LookupRequest(LookupArguments):
    invoke_tool: InvokeTool | None = Field(default=None, alias="VoiceElements_InvokeTool")


_EXPECTED = f"Bearer {STATIC_TOOL_TOKEN}".encode()


async def starlette_tools(request: Request) -> JSONResponse:
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), _EXPECTED):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    body.pop("VoiceElements_InvokeTool", None)
    try:
        arguments = LookupArguments.model_validate(body)
    except pydantic.ValidationError as exc:
        return JSONResponse({"error": "invalid_arguments", "problems": exc.errors(include_url=False)})
    return JSONResponse(await lookup_name_or_phone(arguments.name, arguments.phone_number))


def build_starlette() -> ASGIApp:
    return Starlette(routes=[Route("/vns/tools", starlette_tools, methods=["POST"])])


async def threaded_tools(request: Request) -> JSONResponse:
    """The Starlette endpoint with the blocking tool sent to a worker thread."""
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), _EXPECTED):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    body.pop("VoiceElements_InvokeTool", None)
    try:
        arguments = LookupArguments.model_validate(body)
    except pydantic.ValidationError as exc:
        return JSONResponse({"error": "invalid_arguments", "problems": exc.errors(include_url=False)})
    return JSONResponse(await run_in_threadpool(lookup_name_or_phone_sync, arguments.name, arguments.phone_number))


def build_threaded() -> ASGIApp:
    return Starlette(routes=[Route("/vns/tools", threaded_tools, methods=["POST"])])


async def tuned_tools(request: Request) -> Response:
    """The Starlette endpoint with the JSON codec VNSApp uses (pydantic-core's) instead of the stdlib's."""
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), _EXPECTED):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    try:
        body = from_json(await request.body())
    except ValueError:
        return JSONResponse({"error": "malformed_json"}, status_code=400)
    body.pop("VoiceElements_InvokeTool", None)
    try:
        arguments = LookupArguments.model_validate(body)
    except pydantic.ValidationError as exc:
        return JSONResponse({"error": "invalid_arguments", "problems": exc.errors(include_url=False)})
    answer = await lookup_name_or_phone(arguments.name, arguments.phone_number)
    return Response(to_json(answer), media_type="application/json")


def build_tuned() -> ASGIApp:
    return Starlette(routes=[Route("/vns/tools", tuned_tools, methods=["POST"])])


def build_fastapi() -> ASGIApp:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    # The answer is returned as a JSONResponse, as the Starlette endpoint does: with a dict and a return
    # annotation, FastAPI would also validate and re-serialize the answer through a response model, work
    # the other variants do not do.
    @app.post("/vns/tools", response_model=None)
    async def tools(request_body: LookupRequest, authorization: Annotated[str, Header()] = "") -> JSONResponse:
        if not hmac.compare_digest(authorization.encode(), _EXPECTED):
            raise HTTPException(status_code=401, detail="unauthorized")
        return JSONResponse(await lookup_name_or_phone(request_body.name, request_body.phone_number))

    return app


async def floor(scope: Scope, receive: Any, send: Any) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


# -- driving an ASGI app ------------------------------------------------------------------------------------


def scope_for(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
    }


async def request_once(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    request = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def start_call(app: VNSApp) -> dict[str, Any]:
    body = json.dumps({"sessionGuid": SESSION_GUID, "callerId": "3032639999", "calledNumber": "7206999999"}).encode()
    headers = [
        (b"host", b"bench.local"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {WEBHOOK_TOKEN}".encode()),
    ]
    status, answer = await request_once(app, scope_for("/vns/call-start", headers), body)
    assert status == 200, answer
    tools_base: dict[str, Any] = json.loads(answer)["VoiceElements_Instructions"]["defaultToolsUrlBase"]
    return tools_base


def configure_opentelemetry() -> None:
    """The OpenTelemetry SDK as the global providers, exporting to nothing."""
    from collections.abc import Sequence

    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        MetricsData,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class NoSpans(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    class NoMetrics(MetricExporter):
        def export(
            self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
        ) -> MetricExportResult:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            pass

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(NoSpans()))
    trace.set_tracer_provider(provider)
    reader = PeriodicExportingMetricReader(NoMetrics(), export_interval_millis=5000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))


async def run(rounds: int, calls: int, profile: str | None = None, otel: str | None = None) -> dict[str, float]:
    if otel == "sdk":
        configure_opentelemetry()
    # With --otel, the plain variant has telemetry switched off: vnsapp-otel is the same app with it on.
    vns = VNSApp(
        webhook_token=WEBHOOK_TOKEN, openai_api_key="sk-bench", public_url="http://bench.local", telemetry=otel is None
    )
    vns.add_tool(lookup_name_or_phone)
    tools_base = await start_call(vns)
    vns_sync = VNSApp(webhook_token=WEBHOOK_TOKEN, openai_api_key="sk-bench", public_url="http://bench.local")
    vns_sync.add_tool(lookup_name_or_phone_sync, name="lookup_name_or_phone")
    sync_token = (await start_call(vns_sync))["headers"]["Authorization"].removeprefix("Bearer ")
    body = json.dumps(
        {
            "VoiceElements_InvokeTool": {
                "toolName": "lookup_name_or_phone",
                "sessionGuid": SESSION_GUID,
                "customerCallId": "CallId-001",
            },
            "name": "Ron",
        }
    ).encode()

    def headers(token: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"host", b"bench.local"),
            (b"user-agent", b"VNS/1.0"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    vns_token = tools_base["headers"]["Authorization"].removeprefix("Bearer ")
    variants: dict[str, tuple[ASGIApp, Scope]] = {
        "floor": (floor, scope_for("/vns/tools", headers(STATIC_TOOL_TOKEN))),
        "vnsapp": (vns, scope_for("/vns/tools", headers(vns_token))),
        "starlette": (build_starlette(), scope_for("/vns/tools", headers(STATIC_TOOL_TOKEN))),
        "fastapi": (build_fastapi(), scope_for("/vns/tools", headers(STATIC_TOOL_TOKEN))),
        "tuned": (build_tuned(), scope_for("/vns/tools", headers(STATIC_TOOL_TOKEN))),
        "vnsapp-sync": (vns_sync, scope_for("/vns/tools", headers(sync_token))),
        "threaded": (build_threaded(), scope_for("/vns/tools", headers(STATIC_TOOL_TOKEN))),
    }
    if otel:
        for name, options in (("vnsapp-otel", {}), ("vnsapp-inspect", {"telemetry": False, "inspector": True})):
            observed = VNSApp(
                webhook_token=WEBHOOK_TOKEN, openai_api_key="sk-bench", public_url="http://bench.local", **options
            )
            observed.add_tool(lookup_name_or_phone)
            token = (await start_call(observed))["headers"]["Authorization"].removeprefix("Bearer ")
            variants[name] = (observed, scope_for("/vns/tools", headers(token)))
    expected = await lookup_name_or_phone(name="Ron")
    for name, (app, scope) in variants.items():
        status, answer = await request_once(app, scope, body)
        assert status == 200, (name, status, answer)
        if name != "floor":
            assert json.loads(answer) == expected, (name, answer)
        for _ in range(200):  # warm up
            await request_once(app, scope, body)

    if profile is not None:
        # One variant under cProfile: where its time goes, function by function.
        app, scope = variants[profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(rounds * calls):
            await request_once(app, scope, body)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return {}

    samples: dict[str, list[float]] = {name: [] for name in variants}
    for index in range(rounds):
        order = list(variants)
        if index % 2:
            order.reverse()
        for name in order:
            app, scope = variants[name]
            started = time.perf_counter()
            for _ in range(calls):
                await request_once(app, scope, body)
            samples[name].append((time.perf_counter() - started) / calls * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


VARIANTS = ("floor", "vnsapp", "starlette", "fastapi", "tuned", "vnsapp-sync", "threaded")
OTEL_VARIANTS = ("vnsapp-otel", "vnsapp-inspect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds per variant (alternated)")
    parser.add_argument("--calls", type=int, default=2000, help="tool calls per round")
    parser.add_argument("--profile", choices=VARIANTS + OTEL_VARIANTS, help="profile one variant instead")
    parser.add_argument(
        "--otel",
        nargs="?",
        const="sdk",
        choices=("sdk", "api"),
        help="with OpenTelemetry: its SDK with no-op exporters (sdk, the default), or the API alone (api)",
    )
    options = parser.parse_args()
    if options.otel is None:
        # Without OpenTelemetry, whatever is installed: vns-sdk imports it when the first app is built, and fails.
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    medians = asyncio.run(run(options.rounds, options.calls, options.profile, options.otel))
    if options.profile is not None:
        return
    print(
        f"Python {platform.python_version()}, starlette {starlette.__version__}, fastapi {fastapi.__version__}, "
        f"pydantic {pydantic.__version__}; {options.rounds} rounds x {options.calls} calls"
    )
    print(f"{'variant':<14} {'median us/call':>15} {'vs starlette':>13}")
    shown = VARIANTS + (OTEL_VARIANTS if options.otel else ())
    for name in shown:
        print(f"{name:<14} {medians[name]:>15.1f} {medians[name] / medians['starlette']:>12.2f}x")
    print(
        f"VNSApp/Starlette = {medians['vnsapp'] / medians['starlette']:.2f}, "
        f"VNSApp/FastAPI = {medians['vnsapp'] / medians['fastapi']:.2f}, "
        f"floor/Starlette = {medians['floor'] / medians['starlette']:.2f}, "
        f"VNSApp/tuned Starlette = {medians['vnsapp'] / medians['tuned']:.2f}"
    )
    print(f"VNSApp sync tool/threaded Starlette = {medians['vnsapp-sync'] / medians['threaded']:.2f}")
    if options.otel:
        print(
            f"OpenTelemetry ({'SDK, no-op exporters' if options.otel == 'sdk' else 'API alone, no provider set'}) adds "
            f"{medians['vnsapp-otel'] - medians['vnsapp']:.1f} us per tool call; the inspector (no page watching) adds "
            f"{medians['vnsapp-inspect'] - medians['vnsapp']:.1f} us"
        )
    else:
        print("OpenTelemetry: absent for this run (--otel measures it)")


if __name__ == "__main__":
    main()
