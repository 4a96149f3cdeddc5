"""What the call-state store costs a tool call: memory vs Redis, next to one Redis round trip, in one run.

Each row does what the app does around a tool, on a call whose state holds ``--keys`` keys:

* a tool that writes the state: take the call's lease and read it (one step), rebuild the `CallState`,
  change one key, diff, save the diff and release the lease (one step);
* a tool that never touches the state: read the call without a lease (one step);
* a Redis ``PING`` on the store's own connections (the same client settings, its socket timeout among
  them): one round trip, the floor the network and the client set. The ratios are to this row;
* a ``PING`` from a redis-py client with its defaults (no socket timeout), for comparison;
* a ``PING`` sent the way the store sends its scripts (on the connections it keeps for them, without
  redis-py's per-command layers): the floor of the store's own path, to show what of the cost is the
  scripts' and what is the client's.

Every call is timed on its own and the table shows the median; the rows alternate in rounds, so a slow
moment of the machine costs each the same.

    python bench/state_store.py                 # starts a private redis-server on loopback
    python bench/state_store.py --redis-url redis://127.0.0.1:6379/0 --calls 12000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vns_sdk.state import CallRecord, CallState, CallStateStore, MemoryCallStateStore, RedisCallStateStore
from vns_sdk.state._redis_wire import Command, send

TTL = 600.0
LEASE = 12.0


@contextmanager
def private_redis() -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed: install it or pass --redis-url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir]
        process = subprocess.Popen([*args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.kill()
            process.wait()


def writing_tool(store: CallStateStore, guid: str) -> Callable[[], Awaitable[None]]:
    counter = 0

    async def run() -> None:
        nonlocal counter
        snapshot = await store.acquire_call(guid, lease_seconds=LEASE, wait_seconds=LEASE)
        assert snapshot.lease is not None
        state = CallState(encoded=snapshot.state)
        counter += 1
        state["last_tool"] = {"name": "lookup", "n": counter}
        updates, deleted = state.diff()
        assert await store.save_call(snapshot.lease, updates, deleted, TTL)

    return run


def reading_tool(store: CallStateStore, guid: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        snapshot = await store.read_call(guid)
        assert snapshot.record is not None

    return run


async def measure(url: str, calls: int, keys: int, rounds: int) -> dict[str, float]:
    initial = CallState({f"key_{i}": {"value": i, "text": "x" * 40} for i in range(keys)}).encoded()
    record = CallRecord(str(uuid.uuid4()), customer_call_id="abc123", caller_id="3032639999", outbound=False)
    memory = MemoryCallStateStore()
    redis_store = RedisCallStateStore(url, key_prefix=f"bench:{uuid.uuid4().hex}:")
    raw = aioredis.Redis.from_url(url, decode_responses=True)
    guid = record.session_guid

    async def store_ping() -> None:
        assert await redis_store.ping()

    ping_command = Command(("PING",), 0)

    async def wire_ping() -> None:
        assert await send(redis_store._redis(), ping_command, ()) == "PONG"

    rows: dict[str, Callable[[], Awaitable[object]]] = {
        "memory: tool writing the state": writing_tool(memory, guid),
        "memory: tool not touching it": reading_tool(memory, guid),
        "redis: tool writing the state": writing_tool(redis_store, guid),
        "redis: tool not touching it": reading_tool(redis_store, guid),
        "redis: PING (one round trip)": store_ping,
        "redis: PING, redis-py defaults": raw.ping,
        "redis: PING, the store's own path": wire_ping,
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    try:
        for store in (memory, redis_store):
            await store.start_call(record, initial, TTL)
        for operation in rows.values():
            for _ in range(200):  # warm up: connections, script cache
                await operation()
        per_round = max(1, calls // rounds)
        for index in range(rounds):
            order = list(rows) if index % 2 == 0 else list(reversed(rows))
            for name in order:
                operation = rows[name]
                for _ in range(per_round):
                    start = time.perf_counter_ns()
                    await operation()
                    samples[name].append((time.perf_counter_ns() - start) / 1000)
        await redis_store.delete_call(guid)
    finally:
        await redis_store.aclose()
        await raw.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", help="a Redis to use (default: start a private redis-server)")
    parser.add_argument("--calls", type=int, default=6000, help="tool calls timed per row (default 6000)")
    # Short rounds: on a shared machine a slow spell then costs every row alike, instead of one row's block.
    parser.add_argument("--rounds", type=int, default=40, help="rounds the rows alternate in (default 40)")
    parser.add_argument("--keys", type=int, default=10, help="keys in the call's state (default 10)")
    options = parser.parse_args()

    if options.redis_url:
        medians = asyncio.run(measure(options.redis_url, options.calls, options.keys, options.rounds))
    else:
        with private_redis() as url:
            medians = asyncio.run(measure(url, options.calls, options.keys, options.rounds))

    ping = medians["redis: PING (one round trip)"]
    print(f"redis-py {redis.__version__}; state of {options.keys} keys; median of {options.calls} calls per row")
    print(f"{'':38} {'median':>10} {'vs PING':>8}")
    for name, value in medians.items():
        print(f"{name:38} {value:7.1f} us {value / ping:7.2f}x")


if __name__ == "__main__":
    main()
