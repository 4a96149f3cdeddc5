"""How RedisCallStateStore sends its commands, on a real redis-server: the state a worker remembers, the
connections it keeps for its commands, and scripts cut short by a deadline or a cancellation."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import BlockingConnectionPool, Connection, ConnectionPool

from vns_sdk.exceptions import StateStoreError
from vns_sdk.state import CallRecord, RedisCallStateStore
from vns_sdk.state._redis_calls import KEPT_TEXT, Calls
from vns_sdk.state._redis_wire import IDLE_KEPT
from vns_sdk.state.base import CallSnapshot

pytestmark = pytest.mark.redis


async def add_one(store: RedisCallStateStore, guid: str, key: str = "count") -> dict[str, str]:
    """A handler that adds one to a counter; answers the state it read."""
    held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
    assert held.lease is not None
    read = dict(held.state)
    assert await store.save_call(held.lease, {key: str(int(read.get(key, "0")) + 1)}, [], ttl=60)
    return read


async def sent_by(raw: aioredis.Redis, operation: Callable[[], Any]) -> int:
    """Bytes Redis sent to its clients while ``operation`` ran (the INFO reply read in between included)."""
    before = (await raw.info("stats"))["total_net_output_bytes"]
    await operation()
    return int((await raw.info("stats"))["total_net_output_bytes"]) - int(before)


BIG = json.dumps("x" * 200_000)


@pytest.fixture
async def two_workers(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisCallStateStore, RedisCallStateStore]]:
    """Two workers' stores on one Redis, closed after the test."""
    here, there = (RedisCallStateStore(redis_url, key_prefix=prefix) for _ in range(2))
    yield here, there
    for store in (here, there):
        await store.aclose()


async def test_a_worker_whose_copy_is_current_is_not_sent_the_state_again(
    two_workers: tuple[RedisCallStateStore, RedisCallStateStore], raw: aioredis.Redis
) -> None:
    here, there = two_workers
    guid, big = str(uuid.uuid4()), BIG
    await here.start_call(CallRecord(guid), {"big": big}, ttl=60)

    # The state this worker wrote (at CallStart, then with each save) is the call's: Redis says so in a byte.
    assert await sent_by(raw, lambda: add_one(here, guid)) < 50_000
    assert await sent_by(raw, lambda: add_one(here, guid)) < 50_000
    # Another worker has no copy: it gets the whole state, and its save makes this worker's copy stale.
    assert await sent_by(raw, lambda: add_one(there, guid)) > 200_000
    read_here: dict[str, str] = {}

    async def read_again() -> None:
        read_here.update(await add_one(here, guid))

    assert await sent_by(raw, read_again) > 200_000
    assert read_here == {"big": big, "count": "3"}
    assert (await here.read_call(guid)).state == {"big": big, "count": "4"}


async def test_workers_taking_turns_each_see_the_others_writes(redis_url: str, prefix: str) -> None:
    workers = [RedisCallStateStore(redis_url, key_prefix=prefix) for _ in range(3)]
    guid = str(uuid.uuid4())
    await workers[0].start_call(CallRecord(guid), {}, ttl=60)
    for turn in range(30):
        read = await add_one(workers[turn % 3] if turn % 4 else workers[0], guid)
        assert read.get("count", "0") == str(turn)
    assert (await workers[1].read_call(guid)).state == {"count": "30"}
    for store in workers:
        await store.aclose()


async def test_a_state_an_earlier_release_wrote_is_read_and_then_written_with_its_version(
    redis_url: str, prefix: str, raw: aioredis.Redis
) -> None:
    store = RedisCallStateStore(redis_url, key_prefix=prefix)
    guid = str(uuid.uuid4())
    await raw.set(f"{prefix}call:{{{guid}}}", CallRecord(guid).to_json(), ex=60)
    await raw.set(f"{prefix}state:{{{guid}}}", json.dumps({"count": "5"}), ex=60)  # plain JSON, no version
    assert (await store.read_call(guid)).state == {"count": "5"}
    assert await add_one(store, guid) == {"count": "5"}
    version, _, text = (await raw.get(f"{prefix}state:{{{guid}}}")).partition("\n")
    assert re.fullmatch("[0-9a-f]{13,}", version) and json.loads(text) == {"count": "6"}
    await store.aclose()


async def test_scripts_unknown_to_a_server_are_loaded_again(redis_url: str, prefix: str, raw: aioredis.Redis) -> None:
    store = RedisCallStateStore(redis_url, key_prefix=prefix)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {}, ttl=60)
    await add_one(store, guid)
    await raw.script_flush()  # as after a restart or a failover
    assert await add_one(store, guid) == {"count": "1"}
    final = await store.end_call(guid, claimant="end-1", wait_seconds=5, lease_seconds=5, ttl=60)
    assert final.state == {"count": "2"}
    assert await store.claim_call_end(guid, ttl=60, claimant="end-1")
    await store.aclose()


async def test_call_end_is_sent_the_state_only_without_a_current_copy_and_again_to_its_claimant(
    two_workers: tuple[RedisCallStateStore, RedisCallStateStore], prefix: str, raw: aioredis.Redis
) -> None:
    here, there = two_workers
    guid, big = str(uuid.uuid4()), BIG
    await here.start_call(CallRecord(guid, caller_id="3032639999"), {"big": big}, ttl=60)
    held = await here.acquire_call(guid, lease_seconds=5, wait_seconds=5)
    assert held.lease is not None and await here.save_call(held.lease, {"count": "1"}, [], ttl=60)
    ended: list[CallSnapshot] = []

    async def end_on(store: RedisCallStateStore) -> None:
        ended.append(await store.end_call(guid, claimant="end-1", wait_seconds=5, lease_seconds=5, ttl=60))

    # The worker that saved last ends the call from its own copy: Redis only says it is current.
    assert await sent_by(raw, lambda: end_on(here)) < 50_000
    assert ended[0].record == CallRecord(guid, caller_id="3032639999")
    assert ended[0].state == {"big": big, "count": "1"}
    # Its answer lost, the CallEnd asks again: the same call, whole (the worker let its copy go with the call).
    assert await sent_by(raw, lambda: end_on(here)) > 200_000
    assert ended[1] == ended[0]
    # Another worker's repeat of the CallEnd (another claimant) is a repeat.
    assert (await there.end_call(guid, claimant="end-2", wait_seconds=5, lease_seconds=5, ttl=60)).ended
    # A save sent again after a lost answer, its lease taken before the end, is still recognized as applied.
    assert await here.save_call(held.lease, {"count": "1"}, [], ttl=60)
    # Once the state has gone, the claimant asking again is told so, not answered an empty state.
    await raw.delete(f"{prefix}state:{{{guid}}}")
    with pytest.raises(StateStoreError, match="state is gone"):
        await here.end_call(guid, claimant="end-1", wait_seconds=5, lease_seconds=5, ttl=60)


async def test_a_call_never_stored_ended_is_given_again_to_its_claimant_as_empty(
    two_workers: tuple[RedisCallStateStore, RedisCallStateStore], prefix: str, raw: aioredis.Redis
) -> None:
    here, there = two_workers
    guid = str(uuid.uuid4())  # its CallStart could not store it: the call is live, with no record or state
    first = await here.end_call(guid, claimant="end-1", wait_seconds=5, lease_seconds=5, ttl=60)
    assert first == CallSnapshot(None, {})
    # Its answer lost, the CallEnd asks again: the same empty call, not "the state is gone", which would
    # have it try again in vain until its patience ran out.
    assert await there.end_call(guid, claimant="end-1", wait_seconds=5, lease_seconds=5, ttl=60) == first
    assert 0 < await raw.pttl(f"{prefix}state:{{{guid}}}") <= 5000  # kept only as long as the others
    assert (await there.end_call(guid, claimant="end-2", wait_seconds=5, lease_seconds=5, ttl=60)).ended


@pytest.fixture
def slow_server(redis_server_factory: Callable[..., Any]) -> Any:
    """A private redis-server that can be put to sleep (``DEBUG SLEEP``) to stand for a server that hangs."""
    return redis_server_factory("--enable-debug-command", "local")


def _until_asleep(port: int) -> None:
    """Return once the server on ``port`` no longer answers a PING within 50 ms."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05) as sock:
                sock.sendall(b"PING\r\n")
                sock.recv(16)
        except OSError:
            return
        time.sleep(0.01)
    raise AssertionError("the server never went to sleep")


@asynccontextmanager
async def asleep(server: Any, seconds: float) -> AsyncIterator[None]:
    """The server asleep (it answers nobody) for ``seconds``, from the moment this is entered."""
    sleeper = asyncio.create_task(asyncio.to_thread(server.command, "DEBUG", "SLEEP", str(seconds)))
    await asyncio.to_thread(_until_asleep, server.port)
    try:
        yield
    finally:
        await sleeper


async def test_a_script_past_its_deadline_fails_and_leaves_no_reply_for_the_next(slow_server: Any) -> None:
    store = RedisCallStateStore(slow_server.url, socket_timeout=0.3, retries=0)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await store.start_call(CallRecord(first), {"who": '"first"'}, ttl=60)
    await store.start_call(CallRecord(second), {"who": '"second"'}, ttl=60)
    async with asleep(slow_server, 1.5):
        with pytest.raises(StateStoreError, match=r"take the lease of .*TimeoutError: no answer within 0.3 s"):
            await store.acquire_call(first, lease_seconds=5, wait_seconds=0)
    # The server has answered the script that timed out, on a connection closed since.
    held = await store.acquire_call(second, lease_seconds=5, wait_seconds=0)
    assert held.state == {"who": '"second"'}
    await store.aclose()


async def test_a_cancelled_script_leaves_no_reply_for_the_next(slow_server: Any) -> None:
    store = RedisCallStateStore(slow_server.url, socket_timeout=5)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await store.start_call(CallRecord(first), {"who": '"first"'}, ttl=60)
    await store.start_call(CallRecord(second), {"who": '"second"'}, ttl=60)
    async with asleep(slow_server, 1):
        taking = asyncio.create_task(store.acquire_call(first, lease_seconds=5, wait_seconds=0))
        await asyncio.sleep(0.2)  # sent, and waiting for its answer
        taking.cancel()  # the tool's deadline, or the client going away
        with pytest.raises(asyncio.CancelledError):
            await taking
    held = await store.acquire_call(second, lease_seconds=5, wait_seconds=0)
    assert held.state == {"who": '"second"'}
    await store.aclose()


async def clients(raw: aioredis.Redis) -> int:
    return len(await raw.client_list())


async def test_the_connections_kept_for_scripts_are_bounded_and_closed_with_the_store(
    redis_server_factory: Callable[..., Any],
) -> None:
    server = redis_server_factory()  # its own server: the connections counted are this test's alone
    raw = aioredis.Redis.from_url(server.url)
    before = await clients(raw)
    given = aioredis.Redis.from_url(server.url, decode_responses=True)
    store = RedisCallStateStore(client=given)
    guids = [str(uuid.uuid4()) for _ in range(IDLE_KEPT + 40)]
    for guid in guids:
        await store.start_call(CallRecord(guid), {}, ttl=60)
    await asyncio.gather(*(add_one(store, guid) for guid in guids))  # one connection each, at once
    assert before < await clients(raw) <= before + IDLE_KEPT + 1  # the kept ones, and the client's own
    await store.aclose()
    assert await clients(raw) <= before + 1  # a client the store was given is left open
    assert await given.ping()
    await given.aclose()
    assert await clients(raw) == before
    await raw.aclose()


class QuickConnection(Connection):
    """A connection class whose own default socket timeout is 0.3 s (redis-py's classes have one of theirs)."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("socket_timeout", 0.3)
        super().__init__(**settings)


async def test_a_given_client_s_default_socket_timeout_bounds_the_store(slow_server: Any) -> None:
    client = aioredis.Redis(connection_pool=ConnectionPool(connection_class=QuickConnection, port=slow_server.port))
    store = RedisCallStateStore(client=client, retries=0)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {}, ttl=60)
    async with asleep(slow_server, 1.5):
        with pytest.raises(StateStoreError, match=r"TimeoutError: no answer within 0.3 s"):
            await store.read_call(guid)
    await store.aclose()
    await client.aclose()


async def connections_for(server: Any, client: aioredis.Redis, calls: int) -> int:
    """Connections ``calls`` overlapping state-writing tool calls opened, through a store on ``client``."""
    raw = aioredis.Redis.from_url(server.url)
    before = await clients(raw)
    store = RedisCallStateStore(client=client)
    guids = [str(uuid.uuid4()) for _ in range(calls)]
    await asyncio.gather(*(store.start_call(CallRecord(guid), {}, ttl=60) for guid in guids))
    await asyncio.gather(*(add_one(store, guid) for guid in guids))  # all at once
    opened = await clients(raw) - before
    assert [(await store.read_call(guid)).state for guid in guids] == [{"count": "1"}] * calls
    await store.aclose()
    await client.aclose()
    await raw.aclose()
    return opened


async def test_a_given_pool_s_connection_limit_holds(redis_server_factory: Callable[..., Any]) -> None:
    server = redis_server_factory()
    client = aioredis.Redis(connection_pool=BlockingConnectionPool(max_connections=4, port=server.port))
    assert await connections_for(server, client, 100) <= 4  # four at a time


async def test_a_single_connection_client_keeps_to_its_connection(redis_server_factory: Callable[..., Any]) -> None:
    server = redis_server_factory()
    client = aioredis.Redis.from_url(server.url, single_connection_client=True)
    assert await connections_for(server, client, 30) == 1


async def test_a_command_in_flight_when_the_store_closes_closes_its_connection(slow_server: Any) -> None:
    raw = aioredis.Redis.from_url(slow_server.url)
    before = await clients(raw)
    store = RedisCallStateStore(slow_server.url)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=60)
    async with asleep(slow_server, 0.5):
        reading = asyncio.create_task(store.read_call(guid))
        await asyncio.sleep(0.1)
        await store.aclose()  # the app shutting down while a tool call is still reading
    assert (await reading).state == {"a": "1"}
    assert await clients(raw) == before
    await raw.aclose()


def test_the_states_a_worker_keeps_are_bounded_in_size() -> None:
    calls = Calls("p:")
    third = KEPT_TEXT // 3
    for i in range(10):
        calls.remember(f"g{i}", "v1", None, {"k": "x"}, third)
        assert calls.seen(f"g{i}") is not None
        assert sum(third for j in range(10) if calls.seen(f"g{j}") is not None) <= KEPT_TEXT
    calls.remember("huge", "v1", None, {}, KEPT_TEXT + 1)
    assert calls.seen("huge") is None  # read again each time rather than kept
    calls.remember("g9", "", None, {}, 1)
    assert calls.seen("g9") is None  # a state without a version cannot be recognized
