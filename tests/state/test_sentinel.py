"""The Redis store through Sentinel: a master found by asking a sentinel, on loopback, with passwords."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _free_port, _unavailable
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.state import CallRecord, CallState, RedisCallStateStore

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def sentinel(redis_server_factory: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    """``(master URL with its password, sentinel "host:port")``: a master watched by one sentinel."""
    executable = shutil.which("redis-server")
    if executable is None:
        _unavailable("redis-server is not installed")
    master = redis_server_factory("--requirepass", "master-pass")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="vns-sentinel-") as workdir:
        config = Path(workdir, "sentinel.conf")
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {workdir}\nrequirepass sentinel-pass\n"
            f"sentinel monitor watched 127.0.0.1 {master.port} 1\nsentinel auth-pass watched master-pass\n"
        )
        with Path(workdir, "sentinel.log").open("wb") as log:
            process = subprocess.Popen([executable, str(config), "--sentinel"], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                        sock.sendall(b"AUTH sentinel-pass\r\nSENTINEL get-master-addr-by-name watched\r\n")
                        time.sleep(0.05)
                        if str(master.port).encode() in sock.recv(4096):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    _unavailable("the sentinel did not start")
                time.sleep(0.05)
            yield "redis://:master-pass@watched/0", f"127.0.0.1:{port}"
        finally:
            process.kill()
            process.wait(timeout=10)


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
