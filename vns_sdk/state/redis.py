"""A call-state store in Redis, shared by every worker and host that serves the app.

Install the extra (``pip install 'vns-sdk[redis]'``) and set ``VNS_REDIS_URL``, or pass a store:

```python
from vns_sdk import VNSApp
from vns_sdk.state import RedisCallStateStore

app = VNSApp(state_store=RedisCallStateStore("redis://localhost:6379/0"))
```

Layout (``<p>`` is ``key_prefix``; the ``{...}`` hash tag keeps a call's keys in one Redis Cluster slot):

- ``<p>call:{<sessionGuid>}``: the `CallRecord`, a JSON string.
- ``<p>state:{<sessionGuid>}``: the call's state, a HASH with one field per state key (values JSON).
- ``<p>ended:{<sessionGuid>}``: the CallEnd marker, ``SET NX`` (see `claim_call_end`).
- ``<p>dial:<customerCallId>``: the context given to ``app.dial``, a JSON string.

Every key carries an expiry (the ``ttl`` each method is given), so nothing outlives its call.

Concurrent writes. A request loads the state, runs its tool, and then saves only what it changed:
`CallState.diff` gives the keys set (with their new JSON value) and the keys deleted since the load.
`save_state` applies that diff in one Lua script, which Redis runs atomically: it checks that the call
still exists (a call that ended or expired is never brought back), sets each updated field (``HSET``),
removes each deleted one (``HDEL``) and refreshes the expiry of both keys. Hence:

- Two overlapping tool calls of one call that write *different* keys both land, whatever the order in
  which they load and save, on one worker or on several.
- Writes to the *same* key are last-writer-wins: the value of the request whose save reaches Redis last
  is kept. There is no compare-and-set, so a read-modify-write of one key (``state["n"] += 1``) by two
  overlapping tool calls may lose one increment; keep such counters in separate keys per writer, or do
  the update in your own system of record.
- A value changed in place (``state["cart"].append(x)``) counts as a write of that whole key.

A tool call therefore costs two round trips to Redis: one script loads the record and the whole state
(answered as one string, cheap to parse), one script saves the diff (skipped when nothing changed).

Failures. Every Redis error (connection refused, timeout, ...) is raised as `StateStoreError`, whose
message says which operation failed and on which server, never with the URL's password. A refused or
reset connection is retried twice, tens of milliseconds apart (enough to replace a pooled connection that
Redis closed); a timeout is not retried. So a store that is down fails within about ``socket_timeout``
(a refused connection at once) rather than hanging a tool call. Retried commands are idempotent (the
state diff, the CallEnd claim), except taking a dial context, which a reply lost after it ran drops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from typing import Any

from vns_sdk.exceptions import ConfigurationError, StateStoreError
from vns_sdk.state.base import CallRecord, CallStateStore

try:
    import redis.asyncio as aioredis
    from redis.asyncio.connection import SSLConnection
    from redis.asyncio.retry import Retry
    from redis.backoff import EqualJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("RedisCallStateStore needs redis-py: install it with pip install 'vns-sdk[redis]'") from exc

__all__ = ["RedisCallStateStore"]

logger = logging.getLogger("vns_sdk.state")

# KEYS: record, state. Answers "<record JSON>\n<state as a JSON object>", or nil for an unknown call: one bulk
# string is far cheaper for the client to parse than an HGETALL reply (two thirds of a tool call's cost).
_LOAD_CALL = """
local record = redis.call('GET', KEYS[1])
if not record then return false end
local flat = redis.call('HGETALL', KEYS[2])
local state = {}
for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
return record .. '\\n' .. cjson.encode(state)
"""

# KEYS: record, state. ARGV: ttl (ms), number of updated fields n, n field/value pairs, then fields to delete.
_SAVE_STATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[2])
local i = 3
for _ = 1, n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for j = i, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[j])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""

# KEYS: ended marker. ARGV: claimant token, ttl (ms). Answers 1 to the first claimant, and to it again if
# it retries after a lost reply, so a retried claim never skips the CallEnd it won.
_CLAIM_END = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisCallStateStore(CallStateStore):
    """Keeps call records and call state in Redis, so that every worker sees every call.

    Args:
        url: A Redis URL (``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS,
            ``unix://``). Defaults to the ``VNS_REDIS_URL`` environment variable.
        client: A `redis.asyncio.Redis` to use instead of a URL. The store does not close a client
            it was given.
        key_prefix: Prefix of every key the store writes, to share one Redis database between apps.
        socket_timeout: Seconds to wait for Redis to connect or answer before the operation fails.
        retries: How many times a refused or reset connection is retried (tens of milliseconds apart).

    A store made from a URL may serve several event loops (redis-py's connections belong to the loop that
    opened them, so it opens connections in each), as the sync ``app.dial()`` does by running each store
    operation in a loop of its own. Call `aclose` before such a short-lived loop ends, to close the
    connections it opened.

    Raises:
        ConfigurationError: Neither ``url``, ``client`` nor ``VNS_REDIS_URL`` is given.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        key_prefix: str = "vns:",
        socket_timeout: float = 2.0,
        retries: int = 2,
    ) -> None:
        self._factory: Callable[[], aioredis.Redis] | None = None
        if client is None:
            if not url:
                from vns_sdk.settings import from_environment

                secret = from_environment().redis_url
                url = secret.get_secret_value() if secret is not None else None
            if not url:
                raise ConfigurationError(
                    "RedisCallStateStore needs a Redis URL: pass url=... or set the VNS_REDIS_URL environment variable"
                )
            options: dict[str, Any] = {
                "decode_responses": True,
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": socket_timeout,
                # Retry refused/reset connections only: a timed-out command may have run, and waiting
                # again would hold the tool call (and the caller) for another socket_timeout.
                "retry": Retry(EqualJitterBackoff(cap=0.1, base=0.01), retries, (RedisConnectionError,)),
            }
            self._factory = lambda: aioredis.Redis.from_url(url, **options)
            client = self._factory()
        self._client = client
        # From the connection settings, so a password given as ?password= is masked too.
        self._password: str | None = client.connection_pool.connection_kwargs.get("password")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        self._prefix = key_prefix
        self._server = self._describe(client)
        self._load_script = client.register_script(_LOAD_CALL)
        self._save_script = client.register_script(_SAVE_STATE)
        self._claim_script = client.register_script(_CLAIM_END)

    def __repr__(self) -> str:
        return f"RedisCallStateStore({self._server!r}, key_prefix={self._prefix!r})"

    def _redis(self) -> aioredis.Redis:
        """The client for the running event loop."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return self._client
        return self._bind(loop)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> aioredis.Redis:
        # redis-py's connections belong to the event loop that opened them, and a store may serve several
        # loops: app.dial() runs each store operation in a loop of its own, and each test may have one. So
        # a store made from a URL keeps one client per loop, and forgets the clients of closed loops.
        if self._factory is not None:
            self._clients = {known: client for known, client in self._clients.items() if not known.is_closed()}
            if self._loop is None:
                self._clients[loop] = self._client
            elif loop not in self._clients:
                self._clients[loop] = self._factory()
            self._client = self._clients[loop]
        self._loop = loop
        return self._client

    @staticmethod
    def _describe(client: aioredis.Redis) -> str:
        """The server as an operator reads it (``redis://user:***@host:port/db``): only the password masked.

        Rebuilt from the connection settings, so the password can never be part of it.
        """
        pool = client.connection_pool
        kwargs: Mapping[str, Any] = pool.connection_kwargs
        db = kwargs.get("db", 0)
        user = kwargs.get("username") or ""
        credentials = f"{user}:***@" if kwargs.get("password") else f"{user}@" if user else ""
        if "path" in kwargs:
            return f"unix://{kwargs['path']}?db={db}"
        scheme = "rediss" if issubclass(pool.connection_class, SSLConnection) else "redis"
        return f"{scheme}://{credentials}{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{db}"

    def _error(self, what: str, exc: Exception) -> StateStoreError:
        detail = f"{type(exc).__name__}: {exc}"
        if self._password:
            detail = detail.replace(self._password, "***")
        return StateStoreError(f"Redis call-state store ({self._server}) could not {what}: {detail}")

    def _call_key(self, session_guid: str) -> str:
        return f"{self._prefix}call:{{{session_guid}}}"

    def _state_key(self, session_guid: str) -> str:
        return f"{self._prefix}state:{{{session_guid}}}"

    def _ended_key(self, session_guid: str) -> str:
        return f"{self._prefix}ended:{{{session_guid}}}"

    def _dial_key(self, customer_call_id: str) -> str:
        return f"{self._prefix}dial:{customer_call_id}"

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        """Store a new call's record and initial state (replacing any left from a call with the same id)."""
        state_key = self._state_key(record.session_guid)
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.set(self._call_key(record.session_guid), record.to_json(), px=_ms(ttl))
                pipe.delete(state_key)
                if state:
                    fields: dict[Any, Any] = dict(state)  # redis-py's mapping type is invariant in its key
                    pipe.hset(state_key, mapping=fields)
                    pipe.pexpire(state_key, _ms(ttl))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise self._error(f"store the start of call {record.session_guid!r}", exc) from exc

    async def load_call(self, session_guid: str) -> tuple[CallRecord, dict[str, str]] | None:
        """The call's record and encoded state, read together in one round trip."""
        try:
            raw = await self._load_script(
                keys=[self._call_key(session_guid), self._state_key(session_guid)], client=self._redis()
            )
        except (RedisError, OSError) as exc:
            raise self._error(f"load call {session_guid!r}", exc) from exc
        if raw is None:
            return None
        try:
            raw_record, _, raw_state = _text(raw).partition("\n")
            record = CallRecord.from_json(raw_record)
            state = json.loads(raw_state)
        except (ValueError, TypeError) as exc:
            raise self._error(f"decode call {session_guid!r}", exc) from exc
        return record, state

    async def save_state(
        self, session_guid: str, updates: Mapping[str, str], deleted: Collection[str], ttl: float
    ) -> None:
        """Apply a state diff atomically; a call that no longer exists is left alone (not recreated)."""
        if not updates and not deleted:
            return
        args: list[str | int] = [_ms(ttl), len(updates)]
        for key, value in updates.items():
            args += (key, value)
        args.extend(deleted)
        try:
            applied = await self._save_script(
                keys=[self._call_key(session_guid), self._state_key(session_guid)], args=args, client=self._redis()
            )
        except (RedisError, OSError) as exc:
            raise self._error(f"save the state of call {session_guid!r}", exc) from exc
        if not applied:
            logger.info("State of call %s not saved: the call has ended or expired", session_guid)

    async def claim_call_end(self, session_guid: str, ttl: float) -> bool:
        """``True`` for the first CallEnd of a call across every worker, ``False`` for its retries."""
        try:
            won = await self._claim_script(
                keys=[self._ended_key(session_guid)], args=[secrets.token_hex(8), _ms(ttl)], client=self._redis()
            )
        except (RedisError, OSError) as exc:
            raise self._error(f"claim the CallEnd of call {session_guid!r}", exc) from exc
        return bool(won)

    async def delete_call(self, session_guid: str) -> None:
        """Forget the call's record and state (its CallEnd marker stays until it expires)."""
        try:
            await self._redis().delete(self._call_key(session_guid), self._state_key(session_guid))
        except (RedisError, OSError) as exc:
            raise self._error(f"delete call {session_guid!r}", exc) from exc

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        """Keep an outbound call's context until its CallStart takes it."""
        try:
            await self._redis().set(self._dial_key(customer_call_id), json.dumps(dict(state)), px=_ms(ttl))
        except (RedisError, OSError) as exc:
            raise self._error(f"store the dial context of customerCallId {customer_call_id!r}", exc) from exc

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        """Take an outbound call's context: of concurrent takers, exactly one gets it."""
        key = self._dial_key(customer_call_id)
        try:
            # GET and DEL in one MULTI: atomic on every Redis version (GETDEL needs 6.2).
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.delete(key)
                raw, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise self._error(f"take the dial context of customerCallId {customer_call_id!r}", exc) from exc
        if raw is None:
            return None
        try:
            context = json.loads(raw)
        except ValueError as exc:
            raise self._error(f"decode the dial context of customerCallId {customer_call_id!r}", exc) from exc
        return {str(key): str(value) for key, value in context.items()}

    async def ping(self) -> bool:
        """Whether Redis answers a PING (errors are logged, not raised)."""
        try:
            return bool(await self._redis().ping())
        except (RedisError, OSError) as exc:
            logger.warning("%s", self._error("answer a PING", exc))
            return False

    async def aclose(self) -> None:
        """Close the connections the store opened in this event loop; a client it was given is left open."""
        if self._factory is not None:
            await self._redis().aclose()
