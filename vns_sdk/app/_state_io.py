"""A call's state around one handler: taking its turn, saving what it changed, and saying what was lost.

The store does one step per round trip (`CallStateStore.acquire_call`, `CallStateStore.save_call`);
here are the app's rules around them:

- **How long a handler waits for its turn**: until its own deadline (a tool's timeout, counted from the
  request's arrival). The lease it takes lasts that timeout plus `LEASE_GRACE`, time enough to save.
- **A store that fails** is tried again, with short growing pauses: for `STORE_PATIENCE` when reading
  (the model had better hear at once that the service is briefly unavailable than wait in silence), and
  until the deadline when saving (the tool has acted: its changes are worth the wait), as long as the
  lease holds.
- **What cannot be saved is said**: keys whose values JSON cannot hold are left out (every other key is
  saved), and a save that never lands is counted in `StateFaults` and logged with the keys it lost.
  A test harness that puts a list in the request's scope under `SCOPE_KEY` is told of each problem.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any, TypeVar

from vns_sdk.app._access_log import logger
from vns_sdk.app._runtime import Runtime
from vns_sdk.exceptions import CallStateBusy, StateStoreError
from vns_sdk.state._unsaveable import SCOPE_KEY, describe
from vns_sdk.state.base import CallRecord, CallState, Lease

__all__ = [
    "LEASE_GRACE",
    "STORE_PATIENCE",
    "call_ttl",
    "dropped_changes",
    "give_back",
    "lease_seconds",
    "retrying",
    "save",
    "unsaveable",
]

T = TypeVar("T")

LEASE_GRACE = 2.0
"""Seconds a lease outlives its holder's deadline: time to save, and to try again once."""
STORE_PATIENCE = 1.0
"""Seconds a handler keeps trying a failing store before it answers without it."""

_FIRST_PAUSE = 0.05
_LONGEST_PAUSE = 0.5
_JSON_VALUES = "store JSON values (str, int, float, bool, None, and lists and dicts of them)"


def lease_seconds(timeout: float) -> float:
    """The lease of a handler that may run ``timeout`` seconds."""
    return timeout + LEASE_GRACE


def call_ttl(runtime: Runtime, record: CallRecord | None) -> float:
    """Seconds the call's entries should live from now: to the end of its time limit plus the grace."""
    if record is None or not record.started_at:
        return float(runtime.max_seconds + runtime.grace_seconds)
    return max(1.0, record.started_at + record.max_seconds + runtime.grace_seconds - time.time())


async def retrying(operation: Callable[[], Awaitable[T]], until: float) -> T:
    """Run ``operation``; while the store fails, try again after growing pauses until ``until`` (monotonic).

    The last failure is raised. A busy lease (`CallStateBusy`) is not a failure to try again: the store
    has waited for it already.
    """
    pause = _FIRST_PAUSE
    while True:
        try:
            return await operation()
        except CallStateBusy:
            raise
        except StateStoreError:
            left = until - time.monotonic()
            if left <= 0:
                raise
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)


async def save(
    runtime: Runtime,
    lease: Lease,
    updates: Mapping[str, str],
    deleted: Collection[str],
    ttl: float,
    *,
    until: float,
    who: str,
) -> bool:
    """Save a handler's changes and release its lease, trying again until ``until``; ``False`` if they were lost."""
    store = runtime.store
    until = min(until, lease.expires)
    try:
        if await retrying(lambda: store.save_call(lease, updates, deleted, ttl), until):
            return True
        reason = "its turn with the state ran out first (the handler ran past its lease; another may have had it since)"
    except StateStoreError as exc:
        reason = f"the store failed: {exc}"
    lost = sorted([*updates, *deleted])
    if lost:
        runtime.state_faults.writes_lost += 1
        logger.error(
            "%s: the call state could not be saved, %s; keys lost: %s", who, reason, ", ".join(map(repr, lost))
        )
        return False
    # Nothing to save: the lease expires on its own.
    logger.warning("%s: the call's lease could not be released (%s); it expires on its own", who, reason)
    return True


async def give_back(
    runtime: Runtime,
    lease: Lease,
    updates: Mapping[str, str],
    deleted: Collection[str],
    record: CallRecord | None,
    *,
    who: str,
) -> None:
    """Release the lease of a handler that did not finish (it was cancelled), with the changes it had made final.

    Shielded from a second cancellation and bounded by `STORE_PATIENCE`, so the handlers of the call after it
    do not wait for the lease to expire. A save already applied under this lease is recognized by the store.
    """
    store = runtime.store
    try:
        await asyncio.wait_for(
            asyncio.shield(store.save_call(lease, updates, deleted, call_ttl(runtime, record))), STORE_PATIENCE
        )
    except (StateStoreError, asyncio.TimeoutError) as exc:
        logger.warning("%s: the call's lease could not be given back (%s); it expires on its own", who, exc)


def unsaveable(scope: MutableMapping[str, Any], who: str, state: CallState, keys: Collection[str]) -> None:
    """Log (and tell a test harness) that ``keys`` of ``state`` hold values JSON cannot, so they were not saved."""
    for key in keys:
        problem = (
            f"{who} left a value call.state cannot hold: {describe(key, state[key])}. It was not saved (the other "
            f"keys were); {_JSON_VALUES}: day.isoformat(), not a date; a dict, not an object."
        )
        logger.error("%s", problem)
        _tell_harness(scope, problem)


def dropped_changes(scope: MutableMapping[str, Any], who: str, keys: Collection[str]) -> None:
    """Log (and tell a test harness) that a handler registered as not using the state changed it anyway."""
    problem = (
        f"{who} changed call.state ({', '.join(map(repr, sorted(keys)))}) but is registered as not using it, so "
        "it ran without the call's lease and its changes were dropped: register it with state=True."
    )
    logger.error("%s", problem)
    _tell_harness(scope, problem)


def _tell_harness(scope: MutableMapping[str, Any], problem: str) -> None:
    problems = scope.get(SCOPE_KEY)
    if isinstance(problems, list):
        problems.append(problem)
