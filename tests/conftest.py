"""Shared fixtures: a real Redis server for the tests marked ``@pytest.mark.redis``.

``redis_url`` is the URL of a session-wide Redis. It is, in order of preference:

1. ``VNS_TEST_REDIS_URL`` when set (a server you run; tests write under their own key prefix and
   flush nothing);
2. a ``redis-server`` started here on a free loopback port, in a temporary directory, with persistence
   off (``--save '' --appendonly no``), stopped at the end of the session;
3. neither: the test is skipped, unless the ``CI`` environment variable is set, in which case it
   fails, so that continuous integration never skips the Redis tests silently.

``redis_server_factory`` starts private servers, for tests that stop Redis in the middle of a call.
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A ``redis-server`` process on a free loopback port; ``stop()`` kills it."""

    def __init__(self, executable: str) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="vns-redis-")
        args = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self._dir.name]
        args += ["--save", "", "--appendonly", "no"]
        log = Path(self._dir.name, "redis.log").open("wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"redis-server exited at start (code {self._process.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 10 s")

    def stop(self) -> None:
        """Kill the server (it holds no data worth a clean shutdown) and remove its directory."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()
        self._dir.cleanup()


@pytest.fixture(scope="session")
def redis_server_factory() -> Iterator[Callable[[], RedisServer]]:
    """Start private ``redis-server`` processes; every one still running is stopped at session end."""
    executable = shutil.which("redis-server")
    started: list[RedisServer] = []

    def start() -> RedisServer:
        if executable is None:
            _unavailable("redis-server is not installed")
        server = RedisServer(executable)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server_factory: Callable[[], RedisServer]) -> str:
    """The URL of a Redis server shared by the session (see the module docstring)."""
    url = os.environ.get("VNS_TEST_REDIS_URL")
    if url:
        return url
    if shutil.which("redis-server") is None:
        _unavailable("no Redis for the tests: install redis-server or set VNS_TEST_REDIS_URL")
    return redis_server_factory().url
