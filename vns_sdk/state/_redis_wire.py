"""How the Redis call-state store sends its commands: on redis-py connections it keeps for them.

A tool call that writes the state runs two scripts, and redis-py's per-command layers cost about as much as
the scripts themselves do on the server: the pool's lock and checks, the metrics hooks, the packing of every
argument, and (on Python 3.11) a task per write to bound it in time. So for a `redis.asyncio.Redis` (one
server, or a master found through Sentinel) the store sends its scripts, and its reads and deletions of a
call, through a `Wire`: redis-py connections made as the client's pool makes them (same class, server,
credentials, TLS and ``Retry``; at most the pool's ``max_connections``), kept idle between commands, each
command encoded with its call's keys encoded once (`Command`), and one deadline (the connection's socket
timeout, on the loop's one deadline timer) for the whole exchange. A Redis Cluster client, or a client that
keeps one connection of its own, goes through redis-py's ``execute_command``.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from vns_sdk._deadline import DeadlineExceeded, run_until
from vns_sdk.state._redis_connect import RedisClient

__all__ = ["IDLE_KEPT", "Command", "Wire", "bulk", "close", "send", "wire_of"]

IDLE_KEPT = 128  # connections a wire keeps open between scripts; more are closed when they come back


def bulk(value: str | int | bytes) -> bytes:
    """One argument as a RESP bulk string."""
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


class Command:
    """A command whose leading arguments (the script's SHA1, its keys) are encoded once and sent many times.

    Args:
        head: The leading arguments, such as ``("EVALSHA", sha, 2, key1, key2)``.
        tail: How many arguments each call adds after them.
        source: For an ``EVALSHA``, the script's source, sent with ``EVAL`` to a server that does not know it.
    """

    __slots__ = ("args", "packed", "source", "tail")

    def __init__(self, head: Sequence[str | int], tail: int, source: str | None = None) -> None:
        self.args = tuple(head)
        self.tail = tail
        self.source = source
        self.packed = b"*%d\r\n" % (len(head) + tail) + b"".join(bulk(part) for part in head)

    def pack(self, tail: Sequence[str | int]) -> bytes:
        """The whole command, with ``tail`` after the leading arguments."""
        return self.packed + b"".join([bulk(part) for part in tail])

    def loading(self) -> Command:
        """The ``EVAL`` form of an ``EVALSHA``: the same script, given whole."""
        assert self.source is not None
        return Command(("EVAL", self.source, *self.args[2:]), self.tail)


class Wire:
    """Connections of one client's pool kept for the store's commands, one command at a time on each.

    Args:
        pool: The client's pool. Every connection here is made with its connection class and settings, and
            at most its ``max_connections`` are open here at once (a command waits for one to come back,
            within its deadline, as with redis-py's ``BlockingConnectionPool``).
    """

    __slots__ = ("__weakref__", "_closed", "_idle", "_make", "_slots", "_timeout")

    def __init__(self, pool: ConnectionPool) -> None:
        settings = dict(pool.connection_kwargs)
        connection_class: Callable[..., AbstractConnection] = pool.connection_class
        # The deadline is the connection's socket timeout, its class default included (settings may not name it).
        self._timeout: float | None = connection_class(**settings).socket_timeout
        # One deadline for the write and the reply together, kept here (see `send`).
        settings["socket_timeout"] = None
        self._make: Callable[[], AbstractConnection] = lambda: connection_class(**settings)
        self._idle: list[AbstractConnection] = []
        limit = pool.max_connections
        self._slots = asyncio.Semaphore(limit) if limit < 2**31 else None  # redis-py's default: no limit
        self._closed = False

    async def send(self, packed: bytes) -> Any:
        """Send one encoded command and answer its reply (a Redis error reply is raised, as redis-py does).

        A refused or reset connection is retried as the connection's ``Retry`` says; any other failure (no
        answer in time, a cancellation) closes the connection, so no later command can read this reply.

        Raises:
            redis.exceptions.TimeoutError: No answer within the client's ``socket_timeout``.
        """
        if self._timeout is None:
            return await self._send(packed)
        try:
            return await run_until(self._send(packed), time.monotonic() + self._timeout)
        except DeadlineExceeded:
            raise RedisTimeoutError(f"no answer within {self._timeout} s") from None

    async def _send(self, packed: bytes) -> Any:
        slots = self._slots
        if slots is not None:
            await slots.acquire()
        connection = self._idle.pop() if self._idle else self._make()
        try:
            retry = connection.retry
            return await retry.call_with_retry(lambda: _exchange(connection, packed), lambda _: connection.disconnect())
        except ResponseError:
            raise  # the whole reply was read: the connection is sound
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        finally:
            if self._closed or len(self._idle) >= IDLE_KEPT:
                await connection.disconnect()
            else:
                self._idle.append(connection)  # a closed one connects again when next used
            if slots is not None:
                slots.release()

    async def aclose(self) -> None:
        """Close the idle connections, and each busy one as it comes back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.disconnect()


async def _exchange(connection: AbstractConnection, packed: bytes) -> Any:
    if not connection.is_connected:
        await connection.connect()  # type: ignore[no-untyped-call]  # as the pool does (Sentinel asks for the master)
    await connection.send_packed_command(packed, check_health=False)
    return await connection.read_response()


_wires: weakref.WeakKeyDictionary[aioredis.Redis, Wire] = weakref.WeakKeyDictionary()


def wire_of(client: RedisClient) -> Wire | None:
    """The client's wire, or ``None`` where redis-py's own command path must be used."""
    wire = _wires.get(client)  # type: ignore[arg-type]
    if wire is not None:
        return wire
    if not isinstance(client, aioredis.Redis) or client.single_connection_client:
        return None  # a cluster follows slots in its command path; a single-connection client locks it there
    pool = client.connection_pool
    # The arguments are encoded as UTF-8, as redis-py does unless told otherwise.
    if str(pool.connection_kwargs.get("encoding", "utf-8")).lower() not in ("utf-8", "utf8"):
        return None
    wire = _wires[client] = Wire(pool)
    return wire


async def send(client: RedisClient, command: Command, tail: Sequence[str | int]) -> Any:
    """Send ``command`` with ``tail`` on the client's wire, or through redis-py's command path where it has none.

    A script a server does not know (a restart, a failover, another cluster node) is sent again whole, which
    loads it there: one round trip, two the first time a server meets a script.
    """
    wire = wire_of(client)
    try:
        if wire is None:
            return await client.execute_command(*command.args, *tail)
        return await wire.send(command.pack(tail))
    except NoScriptError:
        if command.source is None:
            raise
        return await send(client, command.loading(), tail)


async def close(client: RedisClient) -> None:
    """Close the connections the client's wire keeps, if it has one."""
    wire = _wires.pop(client, None) if isinstance(client, aioredis.Redis) else None
    if wire is not None:
        await wire.aclose()
