"""The Redis store through Sentinel: a master found by asking a sentinel, on loopback, with passwords."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _free_port, _unavailable
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.state import CallRecord, CallState, RedisCallStateStore

pytestmark = pytest.mark.redis


@contextmanager
def running_sentinel(config: str) -> Iterator[int]:
    """A ``redis-server --sentinel`` on a free loopback port with ``config`` (its monitor lines); yields the port."""
    executable = shutil.which("redis-server")
    if executable is None:
        _unavailable("redis-server is not installed")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="vns-sentinel-") as workdir:
        path = Path(workdir, "sentinel.conf")
        path.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\n{config}")
        with Path(workdir, "sentinel.log").open("wb") as log:
            process = subprocess.Popen([executable, str(path), "--sentinel"], stdout=log, stderr=subprocess.STDOUT)
        try:
            yield port
        finally:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def sentinel(redis_server_factory: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    """``(master URL with its password, sentinel "host:port")``: a master watched by one sentinel."""
    master = redis_server_factory("--requirepass", "master-pass")
    monitor = f"sentinel monitor watched 127.0.0.1 {master.port} 1\nsentinel auth-pass watched master-pass\n"
    with running_sentinel("requirepass sentinel-pass\n" + monitor) as port:
        asked = ("AUTH sentinel-pass", "SENTINEL get-master-addr-by-name watched")
        _until(lambda: str(master.port).encode() in _ask(port, *asked), "the sentinel's start", seconds=10)
        yield "redis://:master-pass@watched/0", f"127.0.0.1:{port}"


async def test_the_store_finds_the_master_through_the_sentinels(sentinel: tuple[str, str]) -> None:
    url, sentinels = sentinel
    store = RedisCallStateStore(
        url, mode="sentinel", sentinels=sentinels, sentinel_password="sentinel-pass", key_prefix=f"t:{uuid.uuid4()}:"
    )
    assert "master-pass" not in repr(store) and "sentinel-pass" not in repr(store)
    assert "watched" in repr(store) and sentinels in repr(store)
    guid = str(uuid.uuid4())
    try:
        await store.start_call(CallRecord(guid), {"n": "1"}, 60)
        held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
        assert held.lease is not None
        state = CallState(encoded=held.state)
        state["n"] += 1
        assert await store.save_call(held.lease, *state.diff(), 60) is True
        assert (await store.read_call(guid)).state == {"n": "2"}
        assert await store.ping() is True
    finally:
        await store.aclose()


async def test_the_settings_choose_sentinel(sentinel: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, sentinels = sentinel
    monkeypatch.setenv("VNS_REDIS_URL", url)
    monkeypatch.setenv("VNS_REDIS_MODE", "sentinel")
    monkeypatch.setenv("VNS_REDIS_SENTINELS", sentinels)
    monkeypatch.setenv("VNS_REDIS_SENTINEL_PASSWORD", "sentinel-pass")
    from vns_sdk import VNSApp

    app = VNSApp(webhook_token="t" * 24)
    try:
        assert await app.store.ping() is True
    finally:
        await app.store.aclose()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "sentinel"}, "needs the sentinels"),
        ({"mode": "sentinel", "sentinels": "nohost"}, "host:port"),
        ({"mode": "replica"}, "must be one of standalone, cluster, sentinel"),
        ({"mode": "cluster", "url": "unix:///run/redis.sock"}, "over TCP"),
        ({"url": "http://:secret@redis.example/0"}, "must start with redis://"),
    ],
)
def test_settings_that_describe_no_deployment_are_refused(settings: dict[str, Any], message: str) -> None:
    url = settings.pop("url", "redis://:secret@watched/0")
    with pytest.raises(ConfigurationError, match=message) as caught:
        RedisCallStateStore(url, **settings)
    assert "secret" not in str(caught.value)


def _ask(port: int, *lines: str) -> bytes:
    """Send inline commands to a server or sentinel and return what it answered (nothing if it is not up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
            time.sleep(0.1)
            return sock.recv(65536)
    except OSError:
        return b""


def _until(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.1)


@pytest.fixture
def replicated(redis_server_factory: Callable[..., Any]) -> Iterator[tuple[int, int, int]]:
    """``(master port, replica port, sentinel port)``: a master, its replica, and a sentinel that knows both."""
    auth = ("--requirepass", "pass", "--masterauth", "pass")
    master = redis_server_factory(*auth)
    replica = redis_server_factory(*auth, "--replicaof", "127.0.0.1", str(master.port))
    _until(lambda: b"master_link_status:up" in _ask(replica.port, "AUTH pass", "INFO replication"), "replication")
    monitor = f"sentinel monitor failing 127.0.0.1 {master.port} 1\nsentinel auth-pass failing pass\n"
    with running_sentinel(monitor) as port:
        _until(lambda: str(replica.port).encode() in _ask(port, "SENTINEL replicas failing"), "replica discovery")
        yield master.port, replica.port, port


def _fail_over(master: int, replica: int, sentinel: int) -> None:
    """Make the replica the master, once the master's writes have reached it, and wait for the old one's demotion."""
    assert b":1" in _ask(master, "AUTH pass", "WAIT 1 2000")  # the replica has every write so far
    assert _ask(sentinel, "SENTINEL FAILOVER failing").startswith(b"+OK")
    _until(lambda: str(replica).encode() in _ask(sentinel, "SENTINEL get-master-addr-by-name failing"), "failover")
    _until(lambda: b"role:slave" in _ask(master, "AUTH pass", "INFO replication"), "the old master's demotion")


async def test_after_a_failover_the_store_writes_to_the_new_master(replicated: tuple[int, int, int]) -> None:
    # The store's connections to the old master find it demoted (a read-only replica) and ask the sentinel again.
    master, replica, sentinel = replicated
    store = RedisCallStateStore("redis://:pass@failing/0", mode="sentinel", sentinels=f"127.0.0.1:{sentinel}")
    try:
        guid = str(uuid.uuid4())
        await store.start_call(CallRecord(guid), {"n": "1"}, 60)
        held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
        assert held.lease is not None and await store.save_call(held.lease, {"n": "2"}, [], 60)

        await asyncio.to_thread(_fail_over, master, replica, sentinel)

        held = await store.acquire_call(guid, lease_seconds=5, wait_seconds=5)
        assert held.state == {"n": "2"}
        assert held.lease is not None and await store.save_call(held.lease, {"n": "3"}, [], 60)
        assert (await store.read_call(guid)).state == {"n": "3"}
        assert b"role:master" in _ask(replica, "AUTH pass", "INFO replication")
    finally:
        await store.aclose()
