"""RedisCallStateStore on a real redis-server: expiry of every key, failures, secrets, configuration."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from vns_sdk.exceptions import ConfigurationError, StateStoreError
from vns_sdk.state import CallRecord, CallState, RedisCallStateStore, _redis_wire

pytestmark = pytest.mark.redis


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisCallStateStore]:
    store = RedisCallStateStore(redis_url, key_prefix=prefix)
    yield store
    await store.aclose()


async def save(store: RedisCallStateStore, guid: str, updates: dict[str, str], deleted: list[str], ttl: float) -> bool:
    """What a handler does: take the call's lease, then save and release."""
    held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
    assert held.lease is not None
    return await store.save_call(held.lease, updates, deleted, ttl)


async def ttls(raw: aioredis.Redis, prefix: str) -> dict[str, int]:
    """Milliseconds to live of every key under the prefix (-1: no expiry)."""
    keys = [key async for key in raw.scan_iter(match=f"{prefix}*")]
    return {key: await raw.pttl(key) for key in keys}


async def test_every_key_expires_with_its_ttl(store: RedisCallStateStore, raw: aioredis.Redis, prefix: str) -> None:
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=60)
    await store.claim_call_end(guid, ttl=90)
    await store.put_dial_context("ccid", {"b": "2"}, ttl=30)

    found = await ttls(raw, prefix)
    assert sorted(found) == sorted(
        f"{prefix}{kind}" for kind in (f"call:{{{guid}}}", f"state:{{{guid}}}", f"ended:{{{guid}}}", "dial:ccid")
    )
    assert 50_000 < found[f"{prefix}call:{{{guid}}}"] <= 60_000
    assert 50_000 < found[f"{prefix}state:{{{guid}}}"] <= 60_000
    assert 80_000 < found[f"{prefix}ended:{{{guid}}}"] <= 90_000
    assert 20_000 < found[f"{prefix}dial:ccid"] <= 30_000


async def test_saving_refreshes_the_expiry_of_the_call(
    store: RedisCallStateStore, raw: aioredis.Redis, prefix: str
) -> None:
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {}, ttl=10)  # no state yet: the hash is created by the save
    assert await save(store, guid, {"new": "1"}, [], ttl=600) is True
    found = await ttls(raw, prefix)
    # The record, the state and the last save's token; the lease itself is gone with the save.
    assert sorted(found) == sorted(f"{prefix}{kind}:{{{guid}}}" for kind in ("call", "state", "done"))
    assert all(500_000 < left <= 600_000 for left in found.values()), found


async def test_a_lease_expires_with_its_holder_s_time(
    store: RedisCallStateStore, raw: aioredis.Redis, prefix: str
) -> None:
    guid = str(uuid.uuid4())
    await store.acquire_call(guid, lease_seconds=7, wait_seconds=0)  # a call never stored: nothing but the lease
    found = await ttls(raw, prefix)
    assert sorted(found) == [f"{prefix}lease:{{{guid}}}"]
    assert all(6_000 < left <= 7_000 for left in found.values()), found


async def test_a_state_emptied_by_deletes_keeps_only_its_version(
    store: RedisCallStateStore, raw: aioredis.Redis, prefix: str
) -> None:
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"only": "1"}, ttl=60)
    assert await save(store, guid, {}, ["only"], ttl=60) is True
    version, _, text = (await raw.get(f"{prefix}state:{{{guid}}}")).partition("\n")
    # The version of the save, so that a worker knows its copy is current.
    assert re.fullmatch("[0-9a-f]{13,}", version) and text == ""
    assert 50_000 < (await ttls(raw, prefix))[f"{prefix}state:{{{guid}}}"] <= 60_000
    assert await store.load_call(guid) == (CallRecord(guid), {})


async def test_a_call_is_gone_once_its_ttl_has_passed(store: RedisCallStateStore) -> None:
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=0.05)
    await asyncio.sleep(0.2)
    assert await store.load_call(guid) is None


async def test_deleted_call_leaves_only_its_call_end_marker(
    store: RedisCallStateStore, raw: aioredis.Redis, prefix: str
) -> None:
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=60)
    late = await store.acquire_call(guid, lease_seconds=5, wait_seconds=0)
    assert late.lease is not None
    await store.claim_call_end(guid, ttl=60)
    await store.delete_call(guid)
    assert await store.save_call(late.lease, {"late": "1"}, [], ttl=60) is False
    assert list(await ttls(raw, prefix)) == [f"{prefix}ended:{{{guid}}}"]


async def test_key_prefixes_keep_apps_apart(redis_url: str) -> None:
    one = RedisCallStateStore(redis_url, key_prefix=f"one:{uuid.uuid4().hex}:")
    two = RedisCallStateStore(redis_url, key_prefix=f"two:{uuid.uuid4().hex}:")
    try:
        await one.start_call(CallRecord("shared-guid"), {}, ttl=60)
        assert await two.load_call("shared-guid") is None
        assert await one.claim_call_end("shared-guid", ttl=60) is True
        assert await two.claim_call_end("shared-guid", ttl=60) is True
    finally:
        await one.aclose()
        await two.aclose()


async def test_an_injected_client_is_used_and_left_open(redis_url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)  # bytes answers: the store decodes them itself
    store = RedisCallStateStore(client=client, key_prefix=prefix)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid, caller_id="3032639999"), {"name": '"José"'}, ttl=60)
    assert await store.load_call(guid) == (CallRecord(guid, caller_id="3032639999"), {"name": '"José"'})
    await store.put_dial_context("c", {"k": '"v"'}, ttl=60)
    assert await store.pop_dial_context("c") == {"k": '"v"'}
    await store.aclose()
    assert await client.ping() is True
    await client.aclose()


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VNS_REDIS_URL", "redis://:hunter2@127.0.0.1:6399/3")
    store = RedisCallStateStore()
    assert repr(store) == "RedisCallStateStore('redis://:***@127.0.0.1:6399/3', key_prefix='vns:')"


def test_an_invalid_setting_in_the_environment_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_REDIS_URL", raising=False)
    monkeypatch.setenv("VNS_TOOL_TIMEOUT", "-1")
    with pytest.raises(ConfigurationError, match="invalid setting in the environment: tool_timeout"):
        RedisCallStateStore()


def test_no_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VNS_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="VNS_REDIS_URL"):
        RedisCallStateStore()


async def test_redis_stopped_mid_call_raises_state_store_error_without_the_password(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    admin = aioredis.Redis.from_url(server.url)
    await admin.config_set("requirepass", "s3cret-pass")
    await admin.aclose()
    url = server.url.replace("redis://", "redis://:s3cret-pass@")
    store = RedisCallStateStore(url, socket_timeout=1.0)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=60)
    held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=0)
    assert held.lease is not None
    state = CallState(encoded=held.state)
    state["b"] = 2

    server.stop()

    failures: list[StateStoreError] = []
    operations = [
        ("load call", store.load_call(guid)),
        ("take the lease of call", store.acquire_call(guid, lease_seconds=5, wait_seconds=5)),
        ("save the state of call", store.save_call(held.lease, *state.diff(), 60)),
        ("store the start of call", store.start_call(CallRecord("other"), {}, 60)),
        ("claim the CallEnd", store.claim_call_end(guid, 60)),
        ("delete call", store.delete_call(guid)),
        ("store the dial context", store.put_dial_context("c", {}, 60)),
        ("take the dial context", store.pop_dial_context("c")),
    ]
    for what, operation in operations:
        with pytest.raises(StateStoreError) as caught:
            await operation
        assert what in str(caught.value)
        failures.append(caught.value)
    assert await store.ping() is False
    for failure in failures:
        assert "s3cret-pass" not in str(failure)
        assert f"127.0.0.1:{server.port}" in str(failure)
    assert "s3cret-pass" not in repr(store)
    await store.aclose()


async def test_a_wrong_password_is_a_state_store_error_that_does_not_echo_it(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    admin = aioredis.Redis.from_url(server.url)
    await admin.config_set("requirepass", "right-one")
    await admin.aclose()
    store = RedisCallStateStore(server.url.replace("redis://", "redis://:wrong-one@"))
    with pytest.raises(StateStoreError, match="could not load call") as caught:
        await store.load_call("g")
    assert "wrong-one" not in str(caught.value)
    await store.aclose()
    server.stop()


async def test_a_corrupt_entry_is_a_state_store_error(
    store: RedisCallStateStore, raw: aioredis.Redis, prefix: str
) -> None:
    await raw.set(f"{prefix}call:{{bad}}", "not json", ex=60)
    with pytest.raises(StateStoreError, match="could not decode call 'bad'"):
        await store.load_call("bad")
    await raw.set(f"{prefix}dial:bad", "{broken", ex=60)
    with pytest.raises(StateStoreError, match="could not decode the dial context of customerCallId 'bad'"):
        await store.pop_dial_context("bad")


async def test_a_unix_socket_client_is_described_by_its_path() -> None:
    client = aioredis.Redis(unix_socket_path="/run/redis/redis.sock", db=2)
    store = RedisCallStateStore(client=client, key_prefix="app:")
    assert repr(store) == "RedisCallStateStore('unix:///run/redis/redis.sock?db=2', key_prefix='app:')"
    await client.aclose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://{host}/2", "redis://{host}/2"),
        ("redis://default:pa55-word@{host}/0", "redis://default:***@{host}/0"),
        ("rediss://:pa55-word@{host}/1", "rediss://:***@{host}/1"),
        ("redis://{host}?password=pa55-word&db=3", "redis://:***@{host}/3"),
    ],
)
async def test_the_server_is_named_by_host_port_and_db_with_only_the_password_masked(url: str, shown: str) -> None:
    with socket.socket() as sock:  # a port nothing listens on: every operation is refused at once
        sock.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{sock.getsockname()[1]}"
    store = RedisCallStateStore(url.format(host=host), socket_timeout=0.5, retries=0)
    shown = shown.format(host=host)
    assert repr(store) == f"RedisCallStateStore({shown!r}, key_prefix='vns:')"
    with pytest.raises(StateStoreError) as caught:
        await store.load_call("g")
    assert f"Redis call-state store ({shown}) could not load call 'g'" in str(caught.value)
    assert "pa55-word" not in str(caught.value)
    await store.aclose()


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_store_serves_one_event_loop_after_another(redis_url: str, prefix: str) -> None:
    # The sync app.dial() runs each store operation in an event loop of its own; redis-py's connections
    # belong to the loop that opened them, so each loop must get its own.
    store = RedisCallStateStore(redis_url, key_prefix=prefix)
    for i in range(3):
        asyncio.run(store.put_dial_context(f"c{i}", {"n": str(i)}, 60))
    assert [asyncio.run(store.pop_dial_context(f"c{i}")) for i in range(3)] == [{"n": "0"}, {"n": "1"}, {"n": "2"}]
    del store
    gc.collect()  # the connections the closed loops left open are collected here, under this test's filters


def test_closing_the_store_in_each_loop_leaves_nothing_open(redis_url: str, prefix: str) -> None:
    store = RedisCallStateStore(redis_url, key_prefix=prefix)

    async def put_and_close(i: int) -> None:
        await store.put_dial_context(f"c{i}", {"n": str(i)}, 60)
        await store.aclose()

    for i in range(3):
        asyncio.run(put_and_close(i))
    gc.collect()  # with filterwarnings=error, a connection left open would fail the test here


async def test_the_handlers_of_one_worker_queue_in_it_rather_than_asking_redis_over_and_over(
    redis_server_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vns_sdk.state._turns._PEEK", 3600.0)  # a slow machine's waiters do not look past the queue
    server = redis_server_factory()  # its own server: the command counts are this test's alone
    store = RedisCallStateStore(server.url)
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {}, ttl=60)
    server.command("CONFIG", "RESETSTAT")

    async def increment() -> None:
        held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
        assert held.lease is not None
        count = int(held.state.get("count", "0"))
        await asyncio.sleep(0.002)  # the tool's own work, while the others wait
        assert await store.save_call(held.lease, {"count": str(count + 1)}, [], ttl=60)

    await asyncio.gather(*(increment() for _ in range(20)))
    assert (await store.read_call(guid)).state == {"count": "20"}
    stats = await store._redis().info("commandstats")
    # One script to take the lease and one to save, per handler: none of them asked while another held it.
    assert stats["cmdstat_evalsha"]["calls"] == 40, stats["cmdstat_evalsha"]
    await store.aclose()


@pytest.mark.parametrize("operation", ["read", "delete"])
async def test_a_command_lost_in_the_clients_transport_is_sent_again(
    store: RedisCallStateStore, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    # The async cluster client closes every connection when it reloads the slots; a command in flight on one of
    # them fails with "'NoneType' object has no attribute 'writelines'". Such a read or delete is sent again.
    guid = str(uuid.uuid4())
    await store.start_call(CallRecord(guid), {"a": "1"}, ttl=60)
    real = _redis_wire.send
    failures = iter([AttributeError("'NoneType' object has no attribute 'writelines'")])

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return await real(*args, **kwargs)

    monkeypatch.setattr(_redis_wire, "send", flaky)
    if operation == "read":
        assert (await store.read_call(guid)).state == {"a": "1"}
    else:
        await store.delete_call(guid)
        monkeypatch.undo()
        assert (await store.read_call(guid)).record is None


async def test_a_transport_failure_that_persists_is_a_state_store_error(
    store: RedisCallStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("'NoneType' object has no attribute 'writelines'")

    monkeypatch.setattr(_redis_wire, "send", broken)
    with pytest.raises(StateStoreError, match="could not load call 'g': AttributeError"):
        await store.read_call("g")


async def test_a_handler_waiting_behind_a_dead_holder_of_its_worker_hears_of_the_end_at_once(
    redis_url: str, prefix: str
) -> None:
    # A handler of this worker took the lease and its task died (no save, no release); the call then ended on
    # another worker. The next handler here waits behind the dead one's turn, but still asks Redis now and then.
    here, there = (RedisCallStateStore(redis_url, key_prefix=prefix) for _ in range(2))
    guid = str(uuid.uuid4())
    await here.start_call(CallRecord(guid), {}, ttl=60)
    await here.acquire_call(guid, lease_seconds=60, wait_seconds=0)
    assert await there.claim_call_end(guid, ttl=60)
    # Without asking, it would wait out the dead turn's minute (its own patience) before it heard.
    waiting = here.acquire_call(guid, lease_seconds=5, wait_seconds=60)
    assert (await asyncio.wait_for(waiting, timeout=20)).ended
    await here.aclose()
    await there.aclose()
