"""Shared fixtures: a real Redis server for the tests marked ``@pytest.mark.redis``.

``redis_url`` is the URL of a session-wide Redis. It is, in order of preference:

1. ``VNS_TEST_REDIS_URL`` when set (a server you run; tests write under their own key prefix and
   flush nothing);
2. a ``redis-server`` started here on a free loopback port, in a temporary directory, with persistence
   off (``--save '' --appendonly no``), stopped at the end of the session;
3. neither: the test is skipped, unless the ``CI`` environment variable is set, in which case it
   fails, so that continuous integration never skips the Redis tests silently.

``redis_server_factory`` starts private servers, for tests that stop Redis in the middle of a call
(``stop(keep_data=True)`` then ``start()`` brings one back with its data, on the same port).
``redis_cluster_url`` is a three-node Redis Cluster on loopback (``redis-server --cluster-enabled yes``
and ``redis-cli --cluster create``), started once per session; it is skipped or failed as above.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

__all__: list[str] = []


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the Redis tests must run: install redis-server)", pytrace=False)
    pytest.skip(reason)


def _free_port(*, bus: bool = False) -> int:
    """A free loopback port; with ``bus``, one whose cluster bus port (the port + 10000) is free too."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if not bus:
            return port
        if port + 10000 <= 65535:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


class RedisServer:
    """A ``redis-server`` process on a free loopback port; ``stop()`` kills it, ``start()`` runs it again."""

    def __init__(self, executable: str, *extra: str) -> None:
        self.port = _free_port(bus="--cluster-enabled" in extra)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._executable = executable
        self._extra = extra
        self._dir = tempfile.TemporaryDirectory(prefix="vns-redis-")
        self.dir = self._dir.name
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Run the server (again), on its port, with what its directory holds (a ``dump.rdb`` is loaded)."""
        args = [self._executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        args += ["--save", "", "--appendonly", "no", *self._extra]
        with Path(self.dir, "redis.log").open("ab") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def command(self, *words: str) -> bytes:
        """Send one inline command and return the first line of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(" ".join(words).encode() + b"\r\n")
            return sock.recv(4096).split(b"\r\n", 1)[0]

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = Path(self.dir, "redis.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"redis-server exited at start (code {self._process.returncode}): {log}")
            try:
                if self.command("PING").startswith((b"+PONG", b"-NOAUTH")):  # up, with or without a password
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 10 s")

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop the server: killed (it holds no data worth a clean shutdown) unless ``keep_data`` saves it first."""
        process = self._process
        if process is not None and process.poll() is None:
            if keep_data:
                assert self.command("SAVE").startswith(b"+OK")
            process.kill()
            process.wait(timeout=10)

    def remove(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        self._dir.cleanup()


@pytest.fixture(scope="session")
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """Start private ``redis-server`` processes (extra arguments are passed on); all are removed at session end."""
    executable = shutil.which("redis-server")
    started: list[RedisServer] = []

    def start(*extra: str) -> RedisServer:
        if executable is None:
            _unavailable("redis-server is not installed")
        server = RedisServer(executable, *extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.remove()


@pytest.fixture(scope="session")
def redis_url(redis_server_factory: Callable[[], RedisServer]) -> str:
    """The URL of a Redis server shared by the session (see the module docstring)."""
    url = os.environ.get("VNS_TEST_REDIS_URL")
    if url:
        return url
    if shutil.which("redis-server") is None:
        _unavailable("no Redis for the tests: install redis-server or set VNS_TEST_REDIS_URL")
    return redis_server_factory().url


@pytest.fixture(scope="session")
def redis_cluster_url(redis_server_factory: Callable[..., RedisServer]) -> str:
    """The URL of one node of a three-node Redis Cluster on loopback, shared by the session."""
    cli = shutil.which("redis-cli")
    if shutil.which("redis-server") is None or cli is None:
        _unavailable("no Redis Cluster for the tests: install redis-server and redis-cli (Debian: redis-tools)")
    nodes = [redis_server_factory("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf") for _ in range(3)]
    created = subprocess.run(
        [cli, "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in nodes)]
        + ["--cluster-replicas", "0", "--cluster-yes"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if created.returncode != 0:
        _unavailable(f"redis-cli --cluster create failed: {created.stdout.decode()[-500:]}{created.stderr.decode()}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(b"cluster_state:ok" in _cluster_info(node) for node in nodes):
            return nodes[0].url
        time.sleep(0.1)
    _unavailable("the Redis Cluster did not reach cluster_state:ok within 30 s")


def _cluster_info(node: RedisServer) -> bytes:
    with socket.create_connection(("127.0.0.1", node.port), timeout=5) as sock:
        sock.sendall(b"CLUSTER INFO\r\n")
        return sock.recv(8192)
