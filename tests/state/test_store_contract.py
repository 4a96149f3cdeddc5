"""What every call-state store promises, checked on the memory store and on a real Redis.

``workers(n)`` gives n stores over one backend: n separate `RedisCallStateStore` instances (as n worker
processes would hold) on one Redis, or the single `MemoryCallStateStore` of one process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from vns_sdk.state import CallRecord, CallState, CallStateStore, MemoryCallStateStore

TTL = 60.0
Workers = Callable[[int], list[CallStateStore]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def workers(request: pytest.FixtureRequest) -> AsyncIterator[Workers]:
    opened: list[CallStateStore] = []
    if request.param == "memory":
        memory = MemoryCallStateStore()

        def make(n: int) -> list[CallStateStore]:
            return [memory] * n

    else:
        from vns_sdk.state import RedisCallStateStore

        url: str = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"

        def make(n: int) -> list[CallStateStore]:
            stores: list[CallStateStore] = [RedisCallStateStore(url, key_prefix=prefix) for _ in range(n)]
            opened.extend(stores)
            return stores

    yield make
    for store in opened:
        await store.aclose()


def new_record(**fields: Any) -> CallRecord:
    return CallRecord(session_guid=str(uuid.uuid4()), **fields)


async def tool_call(store: CallStateStore, guid: str, change: Callable[[CallState], None]) -> None:
    """What the app does around a tool: load the state, let the tool change it, save the diff."""
    found = await store.load_call(guid)
    assert found is not None
    state = CallState(encoded=found[1])
    change(state)
    updates, deleted = state.diff()
    await store.save_state(guid, updates, deleted, TTL)


async def current_state(store: CallStateStore, guid: str) -> dict[str, Any] | None:
    found = await store.load_call(guid)
    return None if found is None else CallState(encoded=found[1]).to_dict()


async def test_a_call_started_on_one_worker_is_seen_by_another(workers: Workers) -> None:
    start_worker, tool_worker = workers(2)
    record = new_record(
        customer_call_id="abc123",
        caller_id="3032639999",
        caller_id_name="Ron Tanner",
        called_number="7206999999",
        outbound=True,
        max_seconds=120,
        started_at=1_700_000_000.5,
    )
    await start_worker.start_call(record, CallState({"account": {"id": 7, "vip": True}}).encoded(), TTL)

    found = await tool_worker.load_call(record.session_guid)
    assert found is not None
    assert found[0] == record
    assert CallState(encoded=found[1]).to_dict() == {"account": {"id": 7, "vip": True}}


async def test_unknown_call_is_none(workers: Workers) -> None:
    (store,) = workers(1)
    assert await store.load_call("no-such-call") is None


async def test_writes_of_one_worker_are_read_by_the_next(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"cart": "[]", "stale": "1"}, TTL)

    def add_item(state: CallState) -> None:
        state["cart"].append("pizza")  # in place
        del state["stale"]

    await tool_call(b, record.session_guid, add_item)
    assert await current_state(a, record.session_guid) == {"cart": ["pizza"]}


async def test_overlapping_tool_calls_writing_different_keys_lose_nothing(workers: Workers) -> None:
    stores = workers(3)
    record = new_record()
    await stores[0].start_call(record, {"kept": '"from CallStart"'}, TTL)
    guid = record.session_guid
    n = 40

    # Every tool call loads before any saves: the worst overlap, each saw none of the others' writes.
    loads = await asyncio.gather(*(stores[i % 3].load_call(guid) for i in range(n)))
    states = [CallState(encoded=found[1]) for found in loads if found is not None]
    for i, state in enumerate(states):
        state[f"answer_{i}"] = {"n": i}
    await asyncio.gather(*(stores[i % 3].save_state(guid, *state.diff(), TTL) for i, state in enumerate(states)))

    final = await current_state(stores[1], guid)
    assert final == {"kept": "from CallStart", **{f"answer_{i}": {"n": i} for i in range(n)}}


async def test_concurrent_tool_calls_each_doing_load_change_save(workers: Workers) -> None:
    stores = workers(2)
    record = new_record()
    await stores[0].start_call(record, {}, TTL)

    def writer(i: int) -> Callable[[CallState], None]:
        def change(state: CallState) -> None:
            state[f"slot_{i}"] = i

        return change

    await asyncio.gather(*(tool_call(stores[i % 2], record.session_guid, writer(i)) for i in range(30)))
    assert await current_state(stores[1], record.session_guid) == {f"slot_{i}": i for i in range(30)}


async def test_the_same_key_is_last_writer_wins(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"step": '"start"'}, TTL)
    found = await a.load_call(record.session_guid)
    assert found is not None
    first, second = CallState(encoded=found[1]), CallState(encoded=found[1])
    first["step"] = "first"
    second["step"] = "second"
    await a.save_state(record.session_guid, *first.diff(), TTL)
    await b.save_state(record.session_guid, *second.diff(), TTL)
    assert await current_state(a, record.session_guid) == {"step": "second"}


async def test_saving_never_brings_back_a_deleted_call(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"x": "1"}, TTL)
    state = CallState(encoded={"x": "1"})
    state["late"] = "write"
    await a.delete_call(record.session_guid)
    await b.save_state(record.session_guid, *state.diff(), TTL)
    assert await b.load_call(record.session_guid) is None


async def test_starting_a_call_again_replaces_its_state(workers: Workers) -> None:
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"old": "1"}, TTL)
    await store.start_call(record, {"new": "2"}, TTL)
    assert await current_state(store, record.session_guid) == {"new": 2}


async def test_an_empty_diff_changes_nothing(workers: Workers) -> None:
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"a": "1"}, TTL)
    await store.save_state(record.session_guid, {}, [], TTL)
    assert await current_state(store, record.session_guid) == {"a": 1}


async def test_call_end_is_claimed_once_across_workers(workers: Workers) -> None:
    stores = workers(4)
    guid = str(uuid.uuid4())
    claims = await asyncio.gather(*(stores[i % 4].claim_call_end(guid, TTL) for i in range(20)))
    assert claims.count(True) == 1
    assert await stores[0].claim_call_end(guid, TTL) is False
    assert await stores[0].claim_call_end(str(uuid.uuid4()), TTL) is True


async def test_call_end_marker_outlives_the_deleted_call(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {}, TTL)
    assert await a.claim_call_end(record.session_guid, TTL) is True
    await a.delete_call(record.session_guid)
    assert await a.load_call(record.session_guid) is None
    assert await b.claim_call_end(record.session_guid, TTL) is False  # a retried CallEnd


async def test_dial_context_is_taken_exactly_once(workers: Workers) -> None:
    stores = workers(3)
    context = CallState({"patient": "Ana", "slot": {"day": "Tuesday", "time": "10:30"}}).encoded()
    await stores[0].put_dial_context("ccid-1", context, TTL)
    taken = await asyncio.gather(*(stores[i % 3].pop_dial_context("ccid-1") for i in range(10)))
    winners = [found for found in taken if found is not None]
    assert winners == [context]
    assert await stores[1].pop_dial_context("ccid-1") is None


async def test_empty_dial_context_round_trips(workers: Workers) -> None:
    a, b = workers(2)
    await a.put_dial_context("ccid-empty", {}, TTL)
    assert await b.pop_dial_context("ccid-empty") == {}
    assert await b.pop_dial_context("unknown") is None


async def test_ping(workers: Workers) -> None:
    (store,) = workers(1)
    assert await store.ping() is True
