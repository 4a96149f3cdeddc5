"""The turns a worker's handlers take at one call's state before one of them asks Redis for the lease."""

from __future__ import annotations

import asyncio
import time

import pytest

from vns_sdk.exceptions import CallStateBusy
from vns_sdk.state._turns import LocalTurns


async def test_one_holder_at_a_time() -> None:
    turns = LocalTurns()
    order: list[int] = []
    holding = 0

    async def handler(i: int) -> None:
        nonlocal holding
        await turns.take("call", f"h{i}", hold=5, give_up=time.monotonic() + 5)
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
    await turns.take("a", "x", hold=5, give_up=time.monotonic() + 5)
    await asyncio.wait_for(turns.take("b", "y", hold=5, give_up=time.monotonic() + 5), timeout=1)


async def test_a_turn_never_given_back_ends_with_its_hold() -> None:
    turns = LocalTurns()
    await turns.take("call", "crashed", hold=0.05, give_up=time.monotonic())
    started = time.monotonic()
    await turns.take("call", "next", hold=5, give_up=started + 5)
    assert time.monotonic() - started < 4  # it waited for the hold, not for its own patience


async def test_a_handler_that_runs_out_of_patience_is_told_busy() -> None:
    turns = LocalTurns()
    await turns.take("call", "holder", hold=5, give_up=time.monotonic() + 5)
    with pytest.raises(CallStateBusy, match="'call'"):
        await turns.take("call", "late", hold=5, give_up=time.monotonic() + 0.05)


async def test_only_the_holder_gives_its_turn_back() -> None:
    turns = LocalTurns()
    await turns.take("call", "first", hold=0.01, give_up=time.monotonic())
    await asyncio.sleep(0.02)  # the first one's turn ran out...
    await turns.take("call", "second", hold=5, give_up=time.monotonic() + 1)
    turns.give_back("call", "first")  # ...so its late give-back leaves the second one's turn alone
    with pytest.raises(CallStateBusy):
        await turns.take("call", "third", hold=5, give_up=time.monotonic() + 0.05)


async def test_forgetting_the_call_wakes_every_waiter() -> None:
    turns = LocalTurns()
    await turns.take("call", "holder", hold=60, give_up=time.monotonic())
    waiter = asyncio.ensure_future(turns.take("call", "waiter", hold=5, give_up=time.monotonic() + 30))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    turns.give_back("call")  # the call ended: whoever held it
    await asyncio.wait_for(waiter, timeout=1)


async def test_hold_until_moves_the_end_of_the_holders_turn_only() -> None:
    turns = LocalTurns()
    await turns.take("call", "holder", hold=60, give_up=time.monotonic())
    turns.hold_until("call", "someone else", time.monotonic())  # ignored
    with pytest.raises(CallStateBusy):
        await turns.take("call", "late", hold=5, give_up=time.monotonic() + 0.02)
    turns.hold_until("call", "holder", time.monotonic())  # the shared lease ends now: so does the turn
    await asyncio.wait_for(turns.take("call", "next", hold=5, give_up=time.monotonic() + 1), timeout=1)


def test_each_event_loop_has_turns_of_its_own() -> None:
    turns = LocalTurns()

    async def take() -> None:
        await turns.take("call", "holder", hold=60, give_up=time.monotonic())

    asyncio.run(take())
    asyncio.run(take())  # the first loop's holder is not this loop's: no wait, no busy
