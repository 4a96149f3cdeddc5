"""The turns a worker's handlers take at one call's state before one of them asks Redis for the lease."""

from __future__ import annotations

import asyncio
import time

from vns_sdk.state._turns import LocalTurns


async def test_one_holder_at_a_time() -> None:
    turns = LocalTurns()
    order: list[int] = []
    holding = 0

    async def handler(i: int) -> None:
        nonlocal holding
        assert await turns.take("call", f"h{i}", hold=5, until=time.monotonic() + 5)
        holding += 1
        assert holding == 1
        order.append(i)
        await asyncio.sleep(0)
        holding -= 1
        turns.give_back("call", f"h{i}")

    await asyncio.gather(*(handler(i) for i in range(10)))
    assert sorted(order) == list(range(10))


async def test_calls_do_not_wait_for_each_other() -> None:
    turns = LocalTurns()
    assert await turns.take("a", "x", hold=5, until=time.monotonic() + 5)
    assert await asyncio.wait_for(turns.take("b", "y", hold=5, until=time.monotonic() + 5), timeout=1)


async def test_a_turn_never_given_back_ends_with_its_hold() -> None:
    turns = LocalTurns()
    assert await turns.take("call", "crashed", hold=0.05, until=time.monotonic())
    assert await turns.take("call", "next", hold=5, until=time.monotonic() + 30)


async def test_a_handler_whose_wait_ends_first_is_told_so() -> None:
    turns = LocalTurns()
    assert await turns.take("call", "holder", hold=5, until=time.monotonic() + 5)
    assert await turns.take("call", "late", hold=5, until=time.monotonic() + 0.05) is False


async def test_only_the_holder_gives_its_turn_back() -> None:
    turns = LocalTurns()
    assert await turns.take("call", "first", hold=0.01, until=time.monotonic())
    await asyncio.sleep(0.02)  # the first one's turn ran out...
    assert await turns.take("call", "second", hold=5, until=time.monotonic() + 1)
    turns.give_back("call", "first")  # ...so its late give-back leaves the second one's turn alone
    assert await turns.take("call", "third", hold=5, until=time.monotonic() + 0.05) is False


async def test_forgetting_the_call_wakes_every_waiter() -> None:
    turns = LocalTurns()
    assert await turns.take("call", "holder", hold=60, until=time.monotonic())
    waiter = asyncio.ensure_future(turns.take("call", "waiter", hold=5, until=time.monotonic() + 30))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    turns.give_back("call")  # the call ended: whoever held it
    assert await asyncio.wait_for(waiter, timeout=1)  # woken, and the turn is its own


async def test_hold_until_moves_the_end_of_the_holders_turn_only() -> None:
    turns = LocalTurns()
    assert await turns.take("call", "holder", hold=60, until=time.monotonic())
    turns.hold_until("call", "holder", time.monotonic())  # the shared lease ends now: so does the turn
    assert await turns.take("call", "next", hold=60, until=time.monotonic() + 1)
    # A handler that got the shared lease although the turn here was another's (that one's lease had expired)
    # takes the turn over: the one before gives nothing back when it finds out.
    turns.hold_until("call", "taker", time.monotonic() + 60)
    turns.give_back("call", "next")
    assert await turns.take("call", "late", hold=5, until=time.monotonic() + 0.02) is False
    turns.give_back("call", "taker")
    assert await turns.take("call", "last", hold=5, until=time.monotonic() + 0.02)


async def test_turns_that_ended_unreturned_are_forgotten() -> None:
    turns = LocalTurns()
    for i in range(1000):  # handlers whose tasks died holding their turns, each of another call
        assert await turns.take(f"call-{i}", "dead", hold=0, until=time.monotonic())
    assert await turns.take("one more", "live", hold=60, until=time.monotonic())
    assert len(turns._calls()) < 300


def test_each_event_loop_has_turns_of_its_own() -> None:
    turns = LocalTurns()

    async def take() -> bool:
        return await turns.take("call", "holder", hold=60, until=time.monotonic())

    assert asyncio.run(take())
    assert asyncio.run(take())  # the first loop's holder is not this loop's
