"""What every call-state store promises, checked on the memory store, on a real Redis and on a Redis Cluster.

``workers(n)`` gives n stores over one backend: n separate `RedisCallStateStore` instances (as n worker
processes would hold) on one Redis or one three-node cluster, or the single `MemoryCallStateStore` of one
process. ``three-steps`` is a memory store that keeps the interface's own `CallStateStore.end_call`, as a
store of a customer's that does not override it does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any

import pytest

from vns_sdk.exceptions import CallStateBusy, StateStoreError
from vns_sdk.state import CallRecord, CallState, CallStateStore, MemoryCallStateStore, RedisCallStateStore
from vns_sdk.state.base import CallSnapshot, Lease

TTL = 60.0
LEASE = 10.0
Workers = Callable[[int], list[CallStateStore]]


class ThreeSteps(MemoryCallStateStore):
    """A store with the interface's default CallEnd step: `acquire_call`, `claim_call_end`, `delete_call`."""

    end_call = CallStateStore.end_call


@pytest.fixture(
    params=[
        "memory",
        "three-steps",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.redis),
    ]
)
async def workers(request: pytest.FixtureRequest) -> AsyncIterator[Workers]:
    opened: list[CallStateStore] = []
    if request.param in ("memory", "three-steps"):
        memory = MemoryCallStateStore() if request.param == "memory" else ThreeSteps()

        def make(n: int) -> list[CallStateStore]:
            return [memory] * n

    else:
        from vns_sdk.state import RedisCallStateStore

        cluster = request.param == "cluster"
        url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"

        def make(n: int) -> list[CallStateStore]:
            stores: list[CallStateStore] = [
                RedisCallStateStore(url, key_prefix=prefix, mode="cluster" if cluster else None) for _ in range(n)
            ]
            opened.extend(stores)
            return stores

    yield make
    for store in opened:
        await store.aclose()


def new_record(**fields: Any) -> CallRecord:
    return CallRecord(session_guid=str(uuid.uuid4()), **fields)


async def acquire(store: CallStateStore, guid: str, *, lease: float = LEASE, wait: float = LEASE) -> CallSnapshot:
    return await store.acquire_call(guid, lease_seconds=lease, wait_seconds=wait)


async def save(
    store: CallStateStore, lease: Lease | None, updates: Mapping[str, str], deleted: Collection[str] = ()
) -> bool:
    assert lease is not None
    return await store.save_call(lease, updates, deleted, TTL)


async def tool_call(store: CallStateStore, guid: str, change: Callable[[CallState], Any]) -> bool:
    """What the app does around a tool that uses the state: take the lease and read, change, save and release."""
    snapshot = await acquire(store, guid)
    state = CallState(encoded=snapshot.state)
    await change(state) if asyncio.iscoroutinefunction(change) else change(state)
    return await save(store, snapshot.lease, *state.diff())


async def current_state(store: CallStateStore, guid: str) -> dict[str, Any]:
    return CallState(encoded=(await store.read_call(guid)).state).to_dict()


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

    for snapshot in (await tool_worker.read_call(record.session_guid), await acquire(tool_worker, record.session_guid)):
        assert snapshot.record == record and not snapshot.ended
        assert CallState(encoded=snapshot.state).to_dict() == {"account": {"id": 7, "vip": True}}
    assert await tool_worker.load_call(record.session_guid) == (record, snapshot.state)


async def test_a_call_never_stored_is_live_with_an_empty_state(workers: Workers) -> None:
    # Its CallStart was answered while the store was down: its tools still run, and what they save is kept.
    a, b = workers(2)
    guid = str(uuid.uuid4())
    assert await a.read_call(guid) == CallSnapshot(None, {})
    assert await a.load_call(guid) is None
    snapshot = await acquire(a, guid)
    assert snapshot.record is None and snapshot.state == {} and snapshot.lease is not None
    assert await save(a, snapshot.lease, {"cart": '["pizza"]'}) is True
    assert await current_state(b, guid) == {"cart": ["pizza"]}


async def test_writes_of_one_worker_are_read_by_the_next(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"cart": "[]", "stale": "1"}, TTL)

    def add_item(state: CallState) -> None:
        state["cart"].append("pizza")  # in place
        del state["stale"]

    assert await tool_call(b, record.session_guid, add_item) is True
    assert await current_state(a, record.session_guid) == {"cart": ["pizza"]}


async def test_overlapping_read_modify_writes_of_one_key_lose_nothing(workers: Workers) -> None:
    stores = workers(3)
    record = new_record()
    await stores[0].start_call(record, {"count": "0", "items": "[]"}, TTL)

    async def increment(state: CallState) -> None:
        count = state["count"]
        await asyncio.sleep(0)  # let the others run: without the lease they would all read the same count
        state["count"] = count + 1
        state["items"].append(count)

    results = await asyncio.gather(*(tool_call(stores[i % 3], record.session_guid, increment) for i in range(20)))
    assert results == [True] * 20
    final = await current_state(stores[1], record.session_guid)
    assert final == {"count": 20, "items": list(range(20))}


async def test_a_second_handler_waits_for_the_first_to_save(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"step": '"start"'}, TTL)
    first = await acquire(a, record.session_guid)
    waiting = asyncio.ensure_future(acquire(b, record.session_guid))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert await save(a, first.lease, {"step": '"first"'}) is True
    second = await waiting
    assert CallState(encoded=second.state).to_dict() == {"step": "first"}
    assert first.lease is not None and second.lease is not None and second.lease.token != first.lease.token
    assert await save(b, second.lease, {}) is True


async def test_a_handler_that_cannot_get_its_turn_in_time_is_told(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {}, TTL)
    held = await acquire(a, record.session_guid)
    with pytest.raises(CallStateBusy, match=record.session_guid):
        await acquire(b, record.session_guid, wait=0.05)
    assert await save(a, held.lease, {}) is True
    assert (await acquire(b, record.session_guid, wait=0)).lease is not None


async def test_a_dead_holder_delays_the_next_one_by_its_lease_at_most(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"n": "1"}, TTL)
    dead = await acquire(a, record.session_guid, lease=0.3)  # a worker that dies now: never saved, never released
    snapshot = await acquire(b, record.session_guid, wait=30)
    assert snapshot.lease is not None and dead.lease is not None
    assert CallState(encoded=snapshot.state).to_dict() == {"n": 1}
    # The dead worker's late save is refused: its lease ran out, and another handler holds the call now.
    assert await save(a, dead.lease, {"n": "99"}) is False
    assert await save(b, snapshot.lease, {"n": "2"}) is True
    assert await current_state(a, record.session_guid) == {"n": 2}


async def test_a_lease_that_ran_out_saves_nothing_even_when_nobody_took_the_call(workers: Workers) -> None:
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"kept": "1"}, TTL)
    slow = await acquire(store, record.session_guid, lease=0.05)
    await asyncio.sleep(0.2)
    assert await save(store, slow.lease, {"kept": "2"}) is False
    assert await current_state(store, record.session_guid) == {"kept": 1}
    assert (await acquire(store, record.session_guid, wait=0)).lease is not None


async def test_saving_twice_under_one_lease_applies_once(workers: Workers) -> None:
    # A save whose reply was lost is sent again.
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"a": "1", "b": "2"}, TTL)
    held = await acquire(store, record.session_guid)
    assert await save(store, held.lease, {"a": "10"}, ["b"]) is True
    assert await save(store, held.lease, {"a": "10"}, ["b"]) is True
    assert await current_state(store, record.session_guid) == {"a": 10}


async def test_an_empty_diff_only_releases(workers: Workers) -> None:
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"a": "1"}, TTL)
    held = await acquire(store, record.session_guid)
    assert await save(store, held.lease, {}) is True
    assert await current_state(store, record.session_guid) == {"a": 1}
    assert (await acquire(store, record.session_guid, wait=0)).lease is not None


async def test_an_ended_call_is_answered_at_once_and_never_brought_back(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"x": "1"}, TTL)
    held = await acquire(a, record.session_guid)
    waiting = asyncio.ensure_future(acquire(b, record.session_guid))
    assert await a.claim_call_end(record.session_guid, TTL) is True
    await a.delete_call(record.session_guid)
    assert (await waiting).ended  # the handler that was waiting learns that the call has ended
    assert (await b.read_call(record.session_guid)).ended
    assert (await acquire(b, record.session_guid, wait=0)).ended
    assert await save(a, held.lease, {"late": "1"}) is False
    assert await b.load_call(record.session_guid) is None


async def test_starting_a_call_again_replaces_its_state(workers: Workers) -> None:
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {"old": "1"}, TTL)
    await store.start_call(record, {"new": "2"}, TTL)
    assert await current_state(store, record.session_guid) == {"new": 2}


async def test_call_end_is_claimed_once_across_workers(workers: Workers) -> None:
    stores = workers(4)
    guid = str(uuid.uuid4())
    claims = await asyncio.gather(*(stores[i % 4].claim_call_end(guid, TTL) for i in range(20)))
    assert claims.count(True) == 1
    assert await stores[0].claim_call_end(guid, TTL) is False
    assert await stores[0].claim_call_end(str(uuid.uuid4()), TTL) is True


async def test_a_claim_asked_again_by_its_claimant_is_still_won(workers: Workers) -> None:
    # A CallEnd whose claim's answer was lost asks again: it must not take itself for a repeat.
    a, b = workers(2)
    guid = str(uuid.uuid4())
    assert await a.claim_call_end(guid, TTL, claimant="end-1") is True
    assert await b.claim_call_end(guid, TTL, claimant="end-1") is True
    assert await b.claim_call_end(guid, TTL, claimant="end-2") is False
    assert await b.claim_call_end(guid, TTL) is False


async def test_call_end_marker_outlives_the_deleted_call(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {}, TTL)
    assert await a.claim_call_end(record.session_guid, TTL) is True
    await a.delete_call(record.session_guid)
    assert await a.load_call(record.session_guid) is None
    assert await b.claim_call_end(record.session_guid, TTL) is False  # a retried CallEnd


async def end(store: CallStateStore, guid: str, claimant: str = "end-1", *, wait: float = LEASE) -> CallSnapshot:
    return await store.end_call(guid, claimant=claimant, wait_seconds=wait, lease_seconds=LEASE, ttl=TTL)


async def test_end_call_waits_for_the_lease_and_takes_the_final_state(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record(caller_id="3032639999")
    await a.start_call(record, {"cart": "[]"}, TTL)
    held = await acquire(a, record.session_guid)
    ending = asyncio.ensure_future(end(b, record.session_guid))
    await asyncio.sleep(0.1)
    assert not ending.done()  # a tool of the call is still saving
    assert await save(a, held.lease, {"cart": '["pizza"]'}) is True
    final = await ending
    assert not final.ended and final.lease is None
    assert final.record == record and CallState(encoded=final.state).to_dict() == {"cart": ["pizza"]}
    # The call has ended everywhere: read, leased, loaded, claimed.
    assert (await a.read_call(record.session_guid)).ended
    assert (await acquire(b, record.session_guid, wait=0)).ended
    assert await a.load_call(record.session_guid) is None
    assert await a.claim_call_end(record.session_guid, TTL) is False


async def test_end_call_refuses_the_save_of_a_lease_that_ran_out_before_it(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {"cart": "[]"}, TTL)
    stale = await acquire(a, record.session_guid, lease=0.2)
    await asyncio.sleep(0.3)
    assert (await end(b, record.session_guid)).state == {"cart": "[]"}  # a lease run out holds nothing up
    assert await save(a, stale.lease, {"cart": '["late"]'}) is False


async def test_a_claimed_end_refuses_the_save_of_a_lease_still_held(workers: Workers) -> None:
    # CallEnd gave up waiting for a tool (its handlers ran without the state) and recorded the end: the tool's
    # save, coming later, must not write into an ended call.
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {}, TTL)
    held = await acquire(a, record.session_guid)
    assert await b.claim_call_end(record.session_guid, TTL) is True
    assert await save(a, held.lease, {"late": "1"}) is False
    assert (await a.read_call(record.session_guid)).ended


async def test_end_call_after_a_save_on_the_same_worker(workers: Workers) -> None:
    # The worker that wrote the state last may hold it already: it must still end with the state saved.
    (store,) = workers(1)
    record = new_record()
    await store.start_call(record, {}, TTL)
    assert await tool_call(store, record.session_guid, lambda state: state.update(visits=2)) is True
    final = await end(store, record.session_guid)
    assert CallState(encoded=final.state).to_dict() == {"visits": 2}


async def test_end_call_is_won_once_and_its_claimant_may_ask_again(workers: Workers) -> None:
    stores = workers(4)
    record = new_record()
    await stores[0].start_call(record, {"a": "1"}, TTL)
    ends = await asyncio.gather(*(end(stores[i % 4], record.session_guid, f"end-{i}") for i in range(8)))
    winners = [i for i, snapshot in enumerate(ends) if not snapshot.ended]
    assert len(winners) == 1
    assert ends[winners[0]].state == {"a": "1"}
    # The winner asking again (its answer was lost) is not taken for a repeat: it gets the same state, or an
    # error where the store no longer holds it (never an empty state as if it were the call's); anyone else
    # is a repeat.
    try:
        again = await end(stores[1], record.session_guid, f"end-{winners[0]}")
    except StateStoreError:
        assert not isinstance(stores[1], RedisCallStateStore)  # Redis keeps it for the claimant a while
    else:
        assert (again.record, again.state, again.ended) == (record, {"a": "1"}, False)
    assert (await end(stores[2], record.session_guid, "end-other")).ended


async def test_end_call_of_a_call_never_stored(workers: Workers) -> None:
    (store,) = workers(1)
    guid = str(uuid.uuid4())
    assert await end(store, guid) == CallSnapshot(None, {})
    assert (await store.read_call(guid)).ended


async def test_end_call_gives_up_on_a_lease_held_too_long(workers: Workers) -> None:
    a, b = workers(2)
    record = new_record()
    await a.start_call(record, {}, TTL)
    held = await acquire(a, record.session_guid)
    with pytest.raises(CallStateBusy):
        await end(b, record.session_guid, wait=0.2)
    assert not (await b.read_call(record.session_guid)).ended  # nothing recorded: the CallEnd may try again
    assert await save(a, held.lease, {"x": "1"}) is True
    assert (await end(b, record.session_guid)).state == {"x": "1"}


class Flaky(ThreeSteps):
    """The default CallEnd step over a store whose claim fails once (before it is applied, or after: its answer
    lost), or whose deletion fails."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    async def claim_call_end(self, session_guid: str, ttl: float, *, claimant: str | None = None) -> bool:
        if self.failing in ("claim", "claim's answer"):
            failing, self.failing = self.failing, ""
            if failing == "claim's answer":
                await super().claim_call_end(session_guid, ttl, claimant=claimant)
            raise StateStoreError("the store went away")
        return await super().claim_call_end(session_guid, ttl, claimant=claimant)

    async def delete_call(self, session_guid: str) -> None:
        if self.failing == "delete":
            raise StateStoreError("the store went away")
        await super().delete_call(session_guid)


@pytest.mark.parametrize("failing", ["claim", "claim's answer"])
async def test_the_default_end_step_tries_its_claim_again_while_it_holds_the_lease(failing: str) -> None:
    store = Flaky(failing)
    record = new_record()
    await store.start_call(record, {"a": "1"}, TTL)
    held_up = asyncio.ensure_future(acquire(store, record.session_guid))
    assert (await end(store, record.session_guid)).state == {"a": "1"}
    assert (await held_up).ended  # no handler got the call's state in between


async def test_the_default_end_step_asked_again_after_it_ended_the_call_does_not_answer_an_empty_state() -> None:
    store = ThreeSteps()
    record = new_record()
    await store.start_call(record, {"a": "1"}, TTL)
    assert (await end(store, record.session_guid)).state == {"a": "1"}
    with pytest.raises(StateStoreError, match="answer was lost"):
        await end(store, record.session_guid)  # as if that answer had been lost: the state is gone with it


async def test_the_default_end_step_keeps_the_state_when_the_deletion_fails(caplog: pytest.LogCaptureFixture) -> None:
    store = Flaky("delete")
    record = new_record()
    await store.start_call(record, {"a": "1"}, TTL)
    assert (await end(store, record.session_guid)).state == {"a": "1"}  # what is left expires on its own
    assert (await store.read_call(record.session_guid)).ended
    assert "could not be removed from the store (it expires)" in caplog.text


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
