"""Call state is serializable per call: in memory, with two app instances on one Redis, and on a Redis Cluster.

The handlers of one call that use ``call.state`` behave as if they ran one after another, on one worker or
many; the tools that never touch it run together. Every request goes through the app over ASGI, as VNS
sends it; each "worker" is an app instance of its own, as a separate process would hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from state_support import WEBHOOK_TOKEN, Worker

from vns_sdk import CallContext, ToolError, VNSApp
from vns_sdk.state import CallStateStore, MemoryCallStateStore


class Agent:
    """The app every worker runs, and what its handlers saw."""

    def __init__(self) -> None:
        self.ended_with: list[dict[str, Any]] = []
        self.running = 0  # tools that do not touch the state, running now
        self.most_running = 0
        self.all_running = asyncio.Event()
        self.first_running = asyncio.Event()
        self.release_holder = asyncio.Event()

    def build(self, store: CallStateStore, **settings: Any) -> VNSApp:
        app = VNSApp(webhook_token=WEBHOOK_TOKEN, state_store=store, instructions="Test agent.", **settings)

        @app.tool
        async def increment(call: CallContext) -> dict[str, Any]:
            """Adds one to the count."""
            count = call.state.get("count", 0)
            self.first_running.set()
            await asyncio.sleep(0.001)  # another request could run here: without the lease it would read the same count
            call.state["count"] = count + 1
            return {"count": count + 1}

        @app.tool
        async def append(call: CallContext, item: int) -> dict[str, Any]:
            """Appends an item to the list, in place.

            Args:
                item: The item.
            """
            self.first_running.set()
            await asyncio.sleep(0.001)
            call.state.setdefault("items", []).append(item)
            return {"items": len(call.state["items"])}

        @app.tool
        async def hold(call: CallContext) -> dict[str, Any]:
            """Holds the call's state until the test lets go."""
            call.state["held"] = True
            self.first_running.set()
            await self.release_holder.wait()
            return {}

        @app.tool
        async def greet(call: CallContext, expected: int) -> dict[str, Any]:
            """Greets the caller; never touches the state.

            Args:
                expected: How many greetings run together.
            """
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            if self.running == expected:
                self.all_running.set()
            try:
                await asyncio.wait_for(self.all_running.wait(), timeout=5)
            except asyncio.TimeoutError:
                raise ToolError("the greetings did not run together") from None
            finally:
                self.running -= 1
            return {"hello": call.caller_id}

        @app.on_call_end
        async def record(call: CallContext) -> None:
            self.ended_with.append(call.state.to_dict())

        return app


Deploy = Callable[..., tuple[Agent, list[Worker], list[CallStateStore]]]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        # Left out for now: under 20 overlapping leases the async cluster client sometimes reads "Connection
        # closed by server", a lease then stays held until it expires and later tools answer "busy". The
        # store contract, the faults and the scripts run on the cluster in tests/state/test_store_contract.py.
        pytest.param(
            "cluster",
            marks=[
                pytest.mark.redis,
            ],
        ),
    ]
)
async def deploy(request: pytest.FixtureRequest) -> AsyncIterator[Deploy]:
    """``deploy(**settings)``: the agent on one worker (memory) or two workers sharing Redis or a Redis Cluster."""
    opened: list[Worker] = []
    stores: list[CallStateStore] = []
    backend = request.param

    def start(**settings: Any) -> tuple[Agent, list[Worker], list[CallStateStore]]:
        agent = Agent()
        if backend == "memory":
            memory = MemoryCallStateStore()
            pair = [memory, memory]
            worker = Worker(agent.build(memory, **settings))
            workers = [worker, worker]  # one process: both "workers" are the same app
        else:
            from vns_sdk.state import RedisCallStateStore

            url: str = request.getfixturevalue("redis_cluster_url" if backend == "cluster" else "redis_url")
            mode = "cluster" if backend == "cluster" else None
            prefix = f"test:{uuid.uuid4().hex}:"
            pair = [RedisCallStateStore(url, mode=mode, key_prefix=prefix) for _ in range(2)]
            workers = [Worker(agent.build(store, **settings)) for store in pair]
        opened.extend(workers)
        stores.extend(pair)
        return agent, workers, pair

    yield start
    for worker in opened:
        await worker.http.aclose()
    for store in stores:
        await store.aclose()


async def test_overlapping_read_modify_writes_of_one_key_end_at_twenty(deploy: Deploy) -> None:
    agent, workers, _ = deploy()
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    replies = await asyncio.gather(*(workers[i % 2].tool(answer, guid, "increment") for i in range(20)))
    assert sorted(reply.json()["count"] for reply in replies) == list(range(1, 21))  # each saw the one before
    await workers[1].call_end(guid)
    assert agent.ended_with == [{"count": 20}]


async def test_overlapping_in_place_appends_keep_every_item(deploy: Deploy) -> None:
    agent, workers, _ = deploy()
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    replies = await asyncio.gather(*(workers[i % 2].tool(answer, guid, "append", item=i) for i in range(20)))
    assert [reply.status_code for reply in replies] == [200] * 20
    await workers[0].call_end(guid)
    (final,) = agent.ended_with
    assert sorted(final["items"]) == list(range(20))


async def test_call_end_sees_the_final_state(deploy: Deploy) -> None:
    # CallEnd arrives while tools are still running: it waits for the one holding the state, and every tool
    # that got its turn before the end is in what the CallEnd handlers see; the others hear that the call ended.
    agent, workers, _ = deploy()
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    tools = [asyncio.ensure_future(workers[i % 2].tool(answer, guid, "append", item=i)) for i in range(20)]
    await agent.first_running.wait()
    ended = await workers[1].call_end(guid)
    replies = await asyncio.gather(*tools)
    assert ended == {"status": 0, "errorMessage": "Success"}
    # A tool that ran answers its result. One whose turn never came answers that the call ended (410); on the
    # cluster under load, one whose connection the server dropped while it waited answers, in words the model
    # can speak, that the service is briefly unavailable, and did not run either.
    served = sorted(i for i, reply in enumerate(replies) if reply.status_code == 200 and "error" not in reply.json())
    others = [reply for reply in replies if reply.status_code != 200 or "error" in reply.json()]
    assert all(r.status_code == 410 or r.json()["error"] == "unavailable" for r in others), [r.text for r in others]
    assert served  # the tool that was running when the CallEnd came finished first
    (final,) = agent.ended_with
    assert sorted(final["items"]) == served


async def test_tools_that_never_touch_the_state_run_together(deploy: Deploy) -> None:
    agent, workers, _ = deploy()
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    # A tool holds the call's state all along: the greetings do not wait for it.
    holder = asyncio.ensure_future(workers[0].tool(answer, guid, "hold"))
    await agent.first_running.wait()
    replies = await asyncio.gather(*(workers[i % 2].tool(answer, guid, "greet", expected=10) for i in range(10)))
    assert [reply.json() for reply in replies] == [{"hello": "3032639999"}] * 10
    assert agent.most_running == 10
    assert not holder.done()
    agent.release_holder.set()
    assert (await holder).status_code == 200
    await workers[1].call_end(guid)
    assert agent.ended_with == [{"held": True}]


async def test_a_worker_that_dies_holding_the_state_delays_the_call_by_its_lease_at_most(deploy: Deploy) -> None:
    agent, workers, stores = deploy()
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    assert (await workers[0].tool(answer, guid, "increment")).json() == {"count": 1}
    # A worker takes the call's lease (short here) and dies: it never saves, never releases.
    await stores[1].acquire_call(guid, lease_seconds=0.5, wait_seconds=0)
    reply = await workers[1].tool(answer, guid, "increment")
    assert reply.status_code == 200 and reply.json() == {"count": 2}
    await workers[0].call_end(guid)
    assert agent.ended_with == [{"count": 2}]


async def test_a_tool_that_cannot_get_its_turn_in_time_tells_the_model(deploy: Deploy) -> None:
    _, workers, stores = deploy(tool_timeout=0.3)
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    held = await stores[1].acquire_call(guid, lease_seconds=30, wait_seconds=0)
    reply = await workers[0].tool(answer, guid, "increment")
    assert reply.status_code == 200
    assert reply.json()["error"] == "busy" and "moment" in reply.json()["message"]
    assert held.lease is not None
    await stores[1].save_call(held.lease, {}, [], 60)
    assert (await workers[1].tool(answer, guid, "increment")).json() == {"count": 1}


async def test_a_tool_cancelled_while_it_holds_the_state_gives_it_back(deploy: Deploy) -> None:
    # The server cancels a request (it shuts down, or its client went away): the call's next tool does not
    # wait for the cancelled one's lease to expire (7 s here, more than its own 5 s of patience).
    agent, workers, _ = deploy(tool_timeout=5)
    guid = str(uuid.uuid4())
    answer = await workers[0].call_start(guid)
    holder = asyncio.ensure_future(workers[0].tool(answer, guid, "hold"))
    await agent.first_running.wait()
    holder.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await holder
    reply = await workers[1].tool(answer, guid, "increment")
    assert reply.status_code == 200 and reply.json() == {"count": 1}
    await workers[0].call_end(guid)
    assert agent.ended_with == [{"count": 1}]  # what the cancelled tool had changed was not saved
