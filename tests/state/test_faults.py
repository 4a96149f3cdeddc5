"""Redis going away and coming back, with two workers: what the model hears, and that nothing that can be kept is lost.

Each test runs its own ``redis-server``; ``stop(keep_data=True)`` saves it to disk first, so the server
that starts again on the same port holds what was saved before: a Redis that was stopped (or out of
reach), not one that lost its data.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any

import httpx
import pytest
from state_support import WEBHOOK_TOKEN, Worker

from vns_sdk import CallContext, VNSApp
from vns_sdk.state import RedisCallStateStore
from vns_sdk.state.base import Lease

pytestmark = pytest.mark.redis


class CountingStore(RedisCallStateStore):
    """The Redis store, telling the test when a save has failed."""

    save_failed = asyncio.Event()

    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        try:
            return await super().save_call(lease, updates, deleted, ttl)
        except Exception:
            CountingStore.save_failed.set()
            raise


class Agent:
    def __init__(self) -> None:
        self.ended_with: list[tuple[dict[str, Any], bool]] = []
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    def build(self, url: str) -> VNSApp:
        app = VNSApp(
            webhook_token=WEBHOOK_TOKEN,
            state_store=CountingStore(url, socket_timeout=1.0),
            instructions="Test agent.",
            tool_timeout=3.0,
            call_start_timeout=0.3,
        )

        @app.on_call_start
        async def open_cart(call: CallContext) -> None:
            call.state["cart"] = []

        @app.tool
        async def add(call: CallContext, item: str) -> dict[str, Any]:
            """Adds an item to the cart.

            Args:
                item: The item.
            """
            call.state.setdefault("cart", []).append(item)
            return {"cart": call.state["cart"]}

        @app.tool
        async def add_slowly(call: CallContext, item: str) -> dict[str, Any]:
            """Adds an item to the cart, once the test lets it.

            Args:
                item: The item.
            """
            self.holding.set()
            await self.release.wait()
            call.state.setdefault("cart", []).append(item)
            return {"added": item}

        @app.on_call_end
        async def record(call: CallContext) -> None:
            self.ended_with.append((call.state.to_dict(), call.state_available))

        return app


Deployment = tuple[Any, Agent, Worker, Worker]


@pytest.fixture
async def deployment(redis_server_factory: Callable[[], Any]) -> AsyncIterator[Deployment]:
    """A private Redis, and the agent on two workers sharing it."""
    server = redis_server_factory()
    agent = Agent()
    first, second = Worker(agent.build(server.url)), Worker(agent.build(server.url))
    CountingStore.save_failed = asyncio.Event()
    yield server, agent, first, second
    for worker in (first, second):
        await worker.http.aclose()
        await worker.app.store.aclose()


def spoken(reply: httpx.Response) -> str:
    """The message of a reply the model can speak from: a 200 with JSON, no trace, no store detail."""
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert isinstance(body, dict) and body.get("message")
    assert "Traceback" not in reply.text and "redis" not in reply.text.lower()
    message: str = body["message"]
    return message


async def test_redis_stopped_mid_call_loses_nothing_saved(deployment: Deployment) -> None:
    server, agent, first, second = deployment
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    assert (await second.tool(answer, guid, "add", item="pizza")).json() == {"cart": ["pizza"]}

    server.stop(keep_data=True)
    assert "unavailable" in spoken(await first.tool(answer, guid, "add", item="soda")).lower()
    server.start()

    assert (await first.tool(answer, guid, "add", item="salad")).json() == {"cart": ["pizza", "salad"]}
    assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    assert agent.ended_with == [({"cart": ["pizza", "salad"]}, True)]


async def test_a_call_started_while_redis_was_down_works_once_it_is_back(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    server, agent, first, second = deployment
    guid = str(uuid.uuid4())
    server.stop(keep_data=True)
    with caplog.at_level(logging.ERROR, logger="vns_sdk.app"):
        answer = await first.call_start(guid)  # answered all the same: the caller can talk to the agent
    assert "initial state keys lost: 'cart'" in caplog.text
    server.start()
    assert (await first.health())["state"]["starts_not_stored"] == 1

    # Its tool token is valid and no CallEnd is on record: the call is live, whatever the store did not keep.
    assert (await second.tool(answer, guid, "add", item="pizza")).json() == {"cart": ["pizza"]}
    assert (await first.tool(answer, guid, "add", item="soda")).json() == {"cart": ["pizza", "soda"]}
    assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    assert agent.ended_with == [({"cart": ["pizza", "soda"]}, True)]
    assert (await first.tool(answer, guid, "add", item="late")).status_code == 410  # 410 only after a real CallEnd


async def test_a_save_that_fails_is_tried_again_within_the_deadline(deployment: Deployment) -> None:
    server, agent, first, second = deployment
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    running = asyncio.ensure_future(first.tool(answer, guid, "add_slowly", item="cake"))
    await agent.holding.wait()
    server.stop(keep_data=True)
    agent.release.set()
    await CountingStore.save_failed.wait()  # the tool has answered and its save has failed once
    server.start()

    assert (await running).json() == {"added": "cake"}
    assert (await second.health())["state"]["writes_lost"] == 0
    assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    assert agent.ended_with == [({"cart": ["cake"]}, True)]


async def test_a_call_end_during_a_long_outage_still_runs_its_handlers(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    server, agent, first, second = deployment
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    await first.tool(answer, guid, "add", item="pizza")
    server.stop(keep_data=True)
    with caplog.at_level(logging.ERROR, logger="vns_sdk.app"):
        assert await second.call_end(guid) == {"status": 0, "errorMessage": "Success"}
    # Run, and told that the state could not be read; the log says so too.
    assert agent.ended_with == [({}, False)]
    assert "running the handlers without the call's state" in caplog.text
    assert (await second.health())["state"]["call_ends_without_state"] == 1
    server.start()


async def test_a_call_end_during_a_short_outage_runs_once_with_the_whole_state(deployment: Deployment) -> None:
    server, agent, first, second = deployment
    guid = str(uuid.uuid4())
    answer = await first.call_start(guid)
    await first.tool(answer, guid, "add", item="pizza")
    server.stop(keep_data=True)
    ending = asyncio.ensure_future(second.call_end(guid))
    await asyncio.sleep(0.2)  # the CallEnd is trying the store while it is down
    assert not ending.done()
    server.start()
    assert await ending == {"status": 0, "errorMessage": "Success"}
    assert await first.call_end(guid) == {"status": 0, "errorMessage": "Success"}  # VNS repeats it: a duplicate
    assert agent.ended_with == [({"cart": ["pizza"]}, True)]
