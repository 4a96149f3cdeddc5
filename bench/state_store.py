"""What the call-state store costs a tool call: memory vs Redis, side by side in one run.

Each tool call does what the app does around a tool: load the call (record + state), rebuild the
`CallState`, change one key, diff, and save the diff. Every call is timed on its own; the table shows the
median. A raw Redis PING is shown as the floor a network round trip sets.

    python bench/state_store.py                 # starts a private redis-server on loopback
    python bench/state_store.py --redis-url redis://127.0.0.1:6379/0 --calls 5000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import redis.asyncio as aioredis

from vns_sdk.state import CallRecord, CallState, CallStateStore, MemoryCallStateStore, RedisCallStateStore

TTL = 600.0


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


async def median_us(operation: Callable[[], Awaitable[object]], calls: int) -> float:
    for _ in range(min(200, calls)):  # warm up: connections, script cache
        await operation()
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        await operation()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def tool_call(store: CallStateStore, guid: str) -> Callable[[], Awaitable[None]]:
    counter = 0

    async def run() -> None:
        nonlocal counter
        found = await store.load_call(guid)
        assert found is not None
        state = CallState(encoded=found[1])
        counter += 1
        state["last_tool"] = {"name": "lookup", "n": counter}
        updates, deleted = state.diff()
        await store.save_state(guid, updates, deleted, TTL)

    return run


async def measure(url: str, calls: int, keys: int) -> list[tuple[str, float]]:
    initial = CallState({f"key_{i}": {"value": i, "text": "x" * 40} for i in range(keys)}).encoded()
    record = CallRecord(str(uuid.uuid4()), customer_call_id="abc123", caller_id="3032639999", outbound=False)
    memory = MemoryCallStateStore()
    redis_store = RedisCallStateStore(url, key_prefix=f"bench:{uuid.uuid4().hex}:")
    raw = aioredis.Redis.from_url(url)
    rows = []
    try:
        for store in (memory, redis_store):
            await store.start_call(record, initial, TTL)
        rows.append(("memory store", await median_us(tool_call(memory, record.session_guid), calls)))
        rows.append(("redis store", await median_us(tool_call(redis_store, record.session_guid), calls)))
        rows.append(("redis PING (one round trip)", await median_us(raw.ping, calls)))
        await redis_store.delete_call(record.session_guid)
    finally:
        await redis_store.aclose()
        await raw.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", help="a Redis to use (default: start a private redis-server)")
    parser.add_argument("--calls", type=int, default=3000, help="tool calls timed per store (default 3000)")
    parser.add_argument("--keys", type=int, default=10, help="keys in the call's state (default 10)")
    options = parser.parse_args()

    if options.redis_url:
        rows = asyncio.run(measure(options.redis_url, options.calls, options.keys))
    else:
        with private_redis() as url:
            rows = asyncio.run(measure(url, options.calls, options.keys))

    base = rows[0][1]
    print(f"Per tool call: load + diff + save, state of {options.keys} keys, median of {options.calls} calls")
    print(f"{'':30} {'median':>10} {'vs memory':>10}")
    for name, value in rows:
        print(f"{name:30} {value:8.1f} us {value / base:9.1f}x")


if __name__ == "__main__":
    main()
