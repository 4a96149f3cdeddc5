"""MemoryCallStateStore: entries expire with their ttl (on an injected clock) and nothing piles up."""

from __future__ import annotations

import asyncio

import pytest

from vns_sdk.state import CallRecord, MemoryCallStateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryCallStateStore:
    return MemoryCallStateStore(clock=clock)


async def test_a_call_expires_with_its_ttl(store: MemoryCallStateStore, clock: Clock) -> None:
    await store.start_call(CallRecord("g1"), {"a": "1"}, ttl=30)
    clock.now += 29.9
    assert await store.load_call("g1") == (CallRecord("g1"), {"a": "1"})
    clock.now += 0.1
    assert await store.load_call("g1") is None
    assert len(store) == 0


async def test_a_restarted_call_lives_for_its_new_ttl(store: MemoryCallStateStore, clock: Clock) -> None:
    await store.start_call(CallRecord("g1"), {}, ttl=10)
    clock.now += 8
    await store.start_call(CallRecord("g1"), {"again": "true"}, ttl=10)
    clock.now += 5  # past the first ttl: the stale expiry must not remove the new call
    assert await store.load_call("g1") == (CallRecord("g1"), {"again": "true"})
    clock.now += 5
    assert await store.load_call("g1") is None


async def test_a_lease_taken_before_the_call_expired_saves_nothing_after(
    store: MemoryCallStateStore, clock: Clock
) -> None:
    await store.start_call(CallRecord("g1"), {}, ttl=10)
    held = await store.acquire_call("g1", lease_seconds=60, wait_seconds=0)
    assert held.lease is not None
    clock.now += 11
    assert await store.save_call(held.lease, {"late": "1"}, [], ttl=10) is False
    assert await store.load_call("g1") is None


async def test_leases_expire_on_the_clock_and_a_waiter_is_woken_by_the_release(
    store: MemoryCallStateStore, clock: Clock
) -> None:
    await store.start_call(CallRecord("g1"), {}, ttl=60)
    dead = await store.acquire_call("g1", lease_seconds=5, wait_seconds=0)
    clock.now += 5  # the holder died: its lease is over
    taken = await store.acquire_call("g1", lease_seconds=5, wait_seconds=0)
    assert taken.lease is not None and dead.lease is not None
    assert await store.save_call(dead.lease, {"late": "1"}, [], ttl=60) is False
    waiting = asyncio.ensure_future(store.acquire_call("g1", lease_seconds=5, wait_seconds=60))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert await store.save_call(taken.lease, {"n": "1"}, [], ttl=60) is True
    assert (await waiting).state == {"n": "1"}


async def test_a_lease_on_an_unknown_call_expires_with_it(store: MemoryCallStateStore, clock: Clock) -> None:
    held = await store.acquire_call("never-stored", lease_seconds=5, wait_seconds=0)
    assert held.record is None and held.lease is not None
    clock.now += 5
    assert len(store) == 0


async def test_loaded_state_is_a_copy(store: MemoryCallStateStore) -> None:
    await store.start_call(CallRecord("g1"), {"a": "1"}, ttl=10)
    found = await store.load_call("g1")
    assert found is not None
    found[1]["a"] = "changed"
    assert await store.load_call("g1") == (CallRecord("g1"), {"a": "1"})


async def test_call_end_claim_expires(store: MemoryCallStateStore, clock: Clock) -> None:
    assert await store.claim_call_end("g1", ttl=60) is True
    clock.now += 59
    assert await store.claim_call_end("g1", ttl=60) is False
    clock.now += 1
    assert len(store) == 0
    assert await store.claim_call_end("g1", ttl=60) is True


async def test_dial_context_expires_and_is_taken_once(store: MemoryCallStateStore, clock: Clock) -> None:
    await store.put_dial_context("c1", {"who": '"Ana"'}, ttl=5)
    await store.put_dial_context("c2", {"who": '"Bo"'}, ttl=5)
    assert await store.pop_dial_context("c1") == {"who": '"Ana"'}
    assert await store.pop_dial_context("c1") is None
    clock.now += 5
    assert await store.pop_dial_context("c2") is None


async def test_nothing_grows_without_bound(store: MemoryCallStateStore, clock: Clock) -> None:
    # A busy day: calls that end normally, calls whose CallEnd never comes, and dials never answered.
    for i in range(2000):
        guid = f"call-{i}"
        await store.start_call(CallRecord(guid), {"n": str(i)}, ttl=30)
        await store.put_dial_context(f"dial-{i}", {}, ttl=30)
        if i % 2:
            assert await store.claim_call_end(guid, ttl=30) is True
            await store.delete_call(guid)
        clock.now += 0.5
    assert 0 < len(store) <= 3 * 60  # only what the last 30 s left alive
    clock.now += 30
    assert len(store) == 0
    assert await store.load_call("call-1999") is None


async def test_ping_and_aclose(store: MemoryCallStateStore) -> None:
    assert await store.ping() is True
    await store.aclose()


async def test_call_end_markers_are_capped_oldest_first(clock: Clock) -> None:
    store = MemoryCallStateStore(clock=clock, max_ended_calls=3)
    for guid in ("g1", "g2", "g3", "g4"):
        assert await store.claim_call_end(guid, ttl=3600) is True
    assert len(store) == 3
    # g1, the oldest, was forgotten: its repeated CallEnd counts as a first one (the documented trade-off)...
    assert await store.claim_call_end("g1", ttl=3600) is True
    # ...and the three most recent are still recognized.
    for guid in ("g3", "g4", "g1"):
        assert await store.claim_call_end(guid, ttl=3600) is False


async def test_memory_stays_flat_over_many_whole_calls(clock: Clock) -> None:
    import tracemalloc

    store = MemoryCallStateStore(clock=clock, max_ended_calls=500)

    async def whole_calls(first: int, count: int) -> None:
        for i in range(first, first + count):
            guid = f"{i:08d}-6a92-4b3f-9a2c-1c63c1f3a8f1"
            await store.start_call(CallRecord(guid), {"n": str(i)}, ttl=420)
            snapshot = await store.acquire_call(guid, lease_seconds=30, wait_seconds=1)
            assert snapshot.lease is not None
            assert await store.save_call(snapshot.lease, {"ended": "true"}, [], ttl=420) is True
            assert await store.claim_call_end(guid, ttl=24 * 3600) is True
            await store.delete_call(guid)
            clock.now += 0.01  # a busy worker: every entry's ttl is far from over

    await whole_calls(0, 3000)  # past the cap and a few heap compactions
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await whole_calls(3000, 20_000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 500_000, f"the store grew by {grown} bytes over 20,000 calls"
    assert len(store) == 500
