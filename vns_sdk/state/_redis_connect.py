"""Where the Redis call-state store connects: one server, a Redis Cluster, or a master found through Sentinel.

Each deployment is served by redis-py's own client for it: `redis.asyncio.Redis`,
`redis.asyncio.cluster.RedisCluster` (which follows the cluster's slots and its failovers) and
`redis.asyncio.sentinel.Sentinel` (which asks the sentinels for the current master). The URL says how
to connect (``redis://`` or ``rediss://`` for TLS, the user, the password, the database, and redis-py's
query options such as ``ssl_ca_certs``); in Sentinel mode its host is the name of the master the
sentinels watch, as redis-rb and Sidekiq spell it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from vns_sdk.exceptions import ConfigurationError

__all__ = ["Mode", "RedisClient", "RedisTarget", "describe_client", "server_name"]

Mode = Literal["standalone", "cluster", "sentinel"]
RedisClient = aioredis.Redis | RedisCluster
_MODES = ("standalone", "cluster", "sentinel")


def server_name(connection: dict[str, Any], *, tls: bool, port: bool = True) -> str:
    """A server as an operator reads it, from redis-py's connection settings: the password alone masked.

    Rebuilt from the settings rather than cut from a URL, so the password can never be part of it.
    """
    db = connection.get("db", 0)
    if "path" in connection:
        return f"unix://{connection['path']}?db={db}"
    user = connection.get("username") or ""
    credentials = f"{user}:***@" if connection.get("password") else f"{user}@" if user else ""
    where = f"{connection.get('host', 'localhost')}"
    if port:
        where += f":{connection.get('port', 6379)}"
    return f"{'rediss' if tls else 'redis'}://{credentials}{where}/{db}"


def describe_client(client: RedisClient) -> str:
    """A client's server as an operator reads it (``redis://user:***@host:port/db``): only the password masked."""
    pool = getattr(client, "connection_pool", None)
    if pool is None:  # a RedisCluster
        nodes = client.get_nodes() if hasattr(client, "get_nodes") else []
        named = ",".join(f"{node.host}:{node.port}" for node in nodes[:3])
        return f"redis://{named or 'cluster'} (cluster)"
    return server_name(dict(pool.connection_kwargs), tls=issubclass(pool.connection_class, SSLConnection))


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigurationError(f"a Redis sentinel must be given as host:port, not {text.strip()!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class RedisTarget:
    """A Redis deployment to connect to.

    Attributes:
        url: How to connect: scheme, credentials, host (the master's name in Sentinel mode), database, options.
        mode: ``standalone``, ``cluster`` or ``sentinel``.
        sentinels: The sentinels' ``(host, port)`` (Sentinel mode).
        sentinel_password: The sentinels' own password, if they have one.
    """

    url: str
    mode: Mode = "standalone"
    sentinels: tuple[tuple[str, int], ...] = ()
    sentinel_password: str | None = None

    @classmethod
    def build(
        cls, url: str, mode: str | None = None, sentinels: str | None = None, sentinel_password: str | None = None
    ) -> RedisTarget:
        """Check the settings of a deployment.

        Args:
            url: The Redis URL.
            mode: ``standalone`` (the default), ``cluster`` or ``sentinel``.
            sentinels: ``host:port`` of each sentinel, comma-separated (Sentinel mode).
            sentinel_password: The sentinels' password.

        Raises:
            ConfigurationError: The mode is unknown, the URL is not a Redis URL, or the sentinels are missing or
                malformed (the message never holds the URL).
        """
        mode = mode or "standalone"
        if mode not in _MODES:
            raise ConfigurationError(f"the Redis mode must be one of {', '.join(_MODES)}, not {mode!r}")
        try:
            parse_url(url)
        except ValueError:
            raise ConfigurationError(
                "the Redis URL must start with redis://, rediss:// (TLS) or unix:// (the value is not shown)"
            ) from None
        nodes = tuple(_host_port(part) for part in (sentinels or "").split(",") if part.strip())
        if mode == "sentinel":
            if not nodes:
                raise ConfigurationError("Redis Sentinel mode needs the sentinels: VNS_REDIS_SENTINELS=host:port,...")
            if not urlsplit(url).hostname:
                raise ConfigurationError("in Redis Sentinel mode the URL's host names the master: redis://mymaster/0")
        elif mode == "cluster" and url.startswith("unix:"):
            raise ConfigurationError("a Redis Cluster is reached over TCP: give a redis:// or rediss:// URL")
        return cls(url=url, mode=mode, sentinels=nodes, sentinel_password=sentinel_password)  # type: ignore[arg-type]

    @property
    def password(self) -> str | None:
        """The password of the URL (its user part or ``?password=``), if any: the one secret in it."""
        password: str | None = parse_url(self.url).get("password")
        return password

    def describe(self) -> str:
        """The deployment in words for messages (``redis://user:***@host:port/db``): only the password masked."""
        parsed: dict[str, Any] = dict(parse_url(self.url))
        if self.mode == "sentinel":
            named = server_name(parsed, tls=parsed.get("connection_class") is SSLConnection, port=False)
            watched = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"{named} (master found by the sentinels {watched})"
        named = server_name(parsed, tls=parsed.get("connection_class") is SSLConnection)
        return f"{named} (cluster)" if self.mode == "cluster" else named

    def factory(self, *, socket_timeout: float, retries: int) -> Callable[[], RedisClient]:
        """A function that opens a new client for this deployment (one per event loop)."""
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            # Retry refused/reset connections only: a timed-out command may have run, and waiting again would
            # hold the tool call (and the caller) for another socket_timeout.
            "retry": Retry(EqualJitterBackoff(cap=0.1, base=0.01), retries, (RedisConnectionError,)),
        }
        url = self.url
        if self.mode == "cluster":
            return lambda: RedisCluster.from_url(url, **options)
        if self.mode == "sentinel":
            return lambda: self._sentinel_master(options)
        return lambda: aioredis.Redis.from_url(url, **options)

    def _sentinel_master(self, options: dict[str, Any]) -> aioredis.Redis:
        connection: dict[str, Any] = dict(parse_url(self.url))
        service = str(connection.pop("host"))
        connection.pop("port", None)
        if connection.pop("connection_class", None) is SSLConnection:
            connection["ssl"] = True
        sentinel_options = {key: value for key, value in options.items() if key.startswith("socket_")}
        if self.sentinel_password:
            sentinel_options["password"] = self.sentinel_password
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(self.sentinels), sentinel_kwargs=sentinel_options, **{**options, **connection}
        )
        master: aioredis.Redis = sentinel.master_for(service)
        return master
