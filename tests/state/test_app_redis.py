"""Two VNSApp workers sharing one Redis: one call's CallStart, tool calls and CallEnd on either worker.

Each worker is a separate `VNSApp` (as a separate process would hold), driven over raw ASGI through
httpx, exactly as VNS sends its webhooks.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from state_support import WEBHOOK_TOKEN, Worker

from vns_sdk import CallContext, VNSApp, VNSClient
from vns_sdk.state import CallStateStore

pytestmark = pytest.mark.redis


class Agent:
    """The app every worker runs: its tools and handlers, and what its CallEnd handler saw."""

    def __init__(self) -> None:
        self.ended_with: list[dict[str, Any]] = []

    def build(self, redis_url: str, **settings: Any) -> VNSApp:
        app = VNSApp(webhook_token=WEBHOOK_TOKEN, redis_url=redis_url, instructions="Test agent.", **settings)

        @app.on_call_start
        async def greet(call: CallContext) -> None:
            call.state["greeted_by"] = "call-start"
            call.state["visits"] = []

        @app.tool
        async def remember(call: CallContext, key: str, value: int) -> dict[str, Any]:
            """Remembers a value under a key.

            Args:
                key: Where to keep it.
                value: What to keep.
            """
            await asyncio.sleep(0)  # let the overlapping calls interleave
            call.state[key] = value
            return {"remembered": key, "greeted_by": call.state.get("greeted_by")}

        @app.tool
        async def visit(call: CallContext, who: str) -> dict[str, Any]:
            """Appends a visitor to a list.

            Args:
                who: The visitor.
            """
            call.state["visits"].append(who)
            return {"visits": call.state["visits"]}

        @app.on_call_end
        async def record(call: CallContext) -> None:
            self.ended_with.append(dict(call.state))

        return app


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[Callable[..., tuple[Agent, Worker, Worker]]]:
    opened: list[Worker] = []

    def start(url: str = redis_url, **settings: Any) -> tuple[Agent, Worker, Worker]:
        agent = Agent()
        pair = Worker(agent.build(url, **settings)), Worker(agent.build(url, **settings))
        opened.extend(pair)
        return (agent, *pair)

    yield start
    for worker in opened:
        await worker.http.aclose()
        await worker.app.store.aclose()


async def test_state_written_at_call_start_is_read_and_written_by_another_worker(workers: Any) -> None:
    agent, first, second = workers()
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)

    reply = await second.tool(answer, guid, "remember", key="pizza", value=2)
    assert reply.status_code == 200
    assert reply.json() == {"remembered": "pizza", "greeted_by": "call-start"}
    reply = await first.tool(answer, guid, "visit", who="Ana")
    assert reply.json() == {"visits": ["Ana"]}
    reply = await second.tool(answer, guid, "visit", who="Bo")
    assert reply.json() == {"visits": ["Ana", "Bo"]}  # an in-place change on one worker, seen by the other

    assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    assert agent.ended_with == [{"greeted_by": "call-start", "visits": ["Ana", "Bo"], "pizza": 2}]


async def test_overlapping_tool_calls_of_one_call_on_two_workers_lose_no_write(workers: Any) -> None:
    agent, first, second = workers()
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)

    replies = await asyncio.gather(
        *((first, second)[i % 2].tool(answer, guid, "remember", key=f"k{i}", value=i) for i in range(24))
    )
    assert [reply.status_code for reply in replies] == [200] * 24

    await first.call_end(guid)
    (final,) = agent.ended_with
    assert final == {"greeted_by": "call-start", "visits": [], **{f"k{i}": i for i in range(24)}}


async def test_call_end_on_either_worker_sees_the_final_state_then_it_leaves_the_store(
    workers: Any, redis_url: str
) -> None:
    agent, first, second = workers()
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    await first.tool(answer, guid, "remember", key="last", value=1)

    assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    assert await first.call_end(guid) == {"status": 0, "errorMessage": "Success"}  # VNS retried elsewhere
    assert agent.ended_with == [{"greeted_by": "call-start", "visits": [], "last": 1}]  # handlers ran once

    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    expiries = {key.split(":")[1]: await raw.pttl(key) async for key in raw.scan_iter(match=f"vns:*{{{guid}}}")}
    await raw.aclose()
    # The CallEnd marker stays a day; the record, the state and the saves' tokens only the tool timeout (10 s)
    # and 2 s more, for a CallEnd or a save tried again after a lost answer. No lease.
    assert set(expiries) == {"ended", "call", "state", "done"}
    assert expiries.pop("ended") > 23 * 3600 * 1000
    assert all(0 < left <= 12_000 for left in expiries.values())
    assert await first.app.store.load_call(guid) is None

    late = await second.tool(answer, guid, "remember", key="late", value=1)
    assert late.status_code == 410


async def test_an_ended_call_is_kept_as_long_as_its_slowest_tool_may_save(workers: Any, redis_url: str) -> None:
    _, first, _ = workers()

    @first.app.tool(timeout=30.0)
    async def settle(call: CallContext) -> str:
        """Settles the bill slowly."""
        return "settled"

    guid = str(uuid.uuid4())
    await first.call_start(guid)
    await first.call_end(guid)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    expiries = {key.split(":")[1]: await raw.pttl(key) async for key in raw.scan_iter(match=f"vns:*{{{guid}}}")}
    await raw.aclose()
    # A save of `settle` may be tried again up to its lease (30 s and 2 s more): its token is still there to
    # recognize it, after the end too.
    assert expiries.pop("ended") > 23 * 3600 * 1000
    assert {"call", "state"} <= set(expiries)
    assert all(30_000 < left <= 32_000 for left in expiries.values()), expiries


async def test_an_outbound_call_finds_its_dial_context_on_another_worker(workers: Any) -> None:
    agent, first, second = workers()
    ccid = f"reminder-{uuid.uuid4().hex}"
    # What app.dial stores before asking VNS to dial (the dial itself is tested with the client).
    await first.app.store.put_dial_context(ccid, {"patient": '"Ana"'}, 60)
    guid = str(uuid.uuid4())
    answer = await second.call_start(guid, customerCallId=ccid, outboundTriggered=True)
    reply = await first.tool(answer, guid, "remember", key="confirmed", value=1)
    assert reply.status_code == 200
    await first.call_end(guid)
    assert agent.ended_with == [{"patient": "Ana", "greeted_by": "call-start", "visits": [], "confirmed": 1}]


async def test_redis_stopped_mid_call_gives_the_model_an_answer_it_can_speak(
    workers: Any, redis_server_factory: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_server_factory()
    admin = aioredis.Redis.from_url(server.url)
    await admin.config_set("requirepass", "redis-pass-123")
    await admin.aclose()
    agent, first, second = workers(server.url.replace("redis://", "redis://:redis-pass-123@"), tool_timeout=0.5)
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    assert (await second.tool(answer, guid, "remember", key="before", value=1)).status_code == 200

    server.stop()
    with caplog.at_level(logging.ERROR):
        reply = await second.tool(answer, guid, "remember", key="after", value=2)

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert isinstance(body, dict) and body.get("message")
    assert "Traceback" not in reply.text and "redis" not in reply.text.lower()
    assert "redis-pass-123" not in reply.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "could not take the lease of call" in logged  # the log says why
    assert "redis-pass-123" not in logged
    # ... and names the server, with only its password masked (not the whole URL as a secret).
    assert f"(redis://:***@127.0.0.1:{server.port}/0)" in logged, logged
    assert "[redacted]" not in logged

    ended = await first.call_end(guid)
    assert ended["status"] == 0  # the handlers ran all the same, without the call's state
    assert agent.ended_with == [{}]


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_job_dials_one_call_after_another_with_the_sync_dial(redis_url: str) -> None:
    # A script or cron job: no event loop of its own, so app.dial() runs the store in a loop per call.
    dialled: list[str] = []

    def vns_api(request: httpx.Request) -> httpx.Response:
        dialled.append(json.loads(request.content)["customerCallId"])
        return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})

    job = VNSApp(
        webhook_token=WEBHOOK_TOKEN,
        redis_url=redis_url,
        client=VNSClient(api_token="api-token", transport=httpx.MockTransport(vns_api)),
    )
    ids = [f"job-{uuid.uuid4().hex}" for _ in range(3)]
    for n, ccid in enumerate(ids):
        assert job.dial("3035550100", "7206999999", customer_call_id=ccid, context={"n": n}).ok
    assert dialled == ids

    async def contexts(store: CallStateStore) -> list[dict[str, str] | None]:
        try:
            return [await store.pop_dial_context(ccid) for ccid in ids]
        finally:
            await store.aclose()

    assert asyncio.run(contexts(job.store)) == [{"n": "0"}, {"n": "1"}, {"n": "2"}]
    del job
    gc.collect()  # the connections the job's closed loops left open are collected here, under these filters
