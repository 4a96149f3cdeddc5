"""A call-state store in Redis, shared by every worker and host that serves the app.

Install the extra (``pip install 'vns-sdk[redis]'``) and set ``VNS_REDIS_URL`` (with ``VNS_REDIS_MODE``
for a Redis Cluster or Sentinel), or pass a store:

```python
from vns_sdk import VNSApp
from vns_sdk.state import RedisCallStateStore

app = VNSApp(state_store=RedisCallStateStore("redis://localhost:6379/0"))
```

It works with one Redis server, a Redis Cluster (``mode="cluster"``), a master watched by Sentinel
(``mode="sentinel"``), over TLS (``rediss://``), and with Valkey, which speaks the same protocol.
Redis 5.0 or later.

Layout (``<p>`` is ``key_prefix``; the ``{...}`` hash tag keeps a call's keys in one Redis Cluster slot):

- ``<p>call:{<sessionGuid>}``: the `CallRecord`, a JSON string.
- ``<p>state:{<sessionGuid>}``: the call's state, a JSON object of each key's value as JSON text, after its
  version (the token of the lease that wrote it) and a newline.
- ``<p>lease:{<sessionGuid>}`` and ``<p>done:{<sessionGuid>}``: the lease (its holder's token) and the tokens
  of the saves applied (so that a save sent again after a lost reply is known).
- ``<p>ended:{<sessionGuid>}``: the CallEnd marker, ``SET NX`` (see `claim_call_end`).
- ``<p>dial:<customerCallId>``: the context given to ``app.dial``, a JSON string.

Every key carries an expiry, so nothing outlives its call.

One round trip each: `read_call` is one ``MGET``, `acquire_call` (take the lease and read) one script,
`save_call` (write the state whole, as only the lease holder writes, and release) one script, `end_call` (the
CallEnd's turn, its claim and the final state) one script. A worker keeps
the state it last read or wrote for each call with its version: Redis sends the state with the lease only when
another worker wrote it since. The handlers of one worker waiting for a call's lease queue in it (`LocalTurns`):
the first in line asks Redis again after short pauses (1 to 10 ms), the others now and then.

Failures. Every Redis error is raised as `StateStoreError`, naming the operation and the server, never the
password. A refused or reset connection is retried twice, tens of milliseconds apart; a timeout is not, so
a store that is down fails within about ``socket_timeout``. Every command may be sent again after a lost
reply (a save under the same lease applies once, a CallEnd claim is recognized as its own), but taking a
dial context, which a reply lost after it ran drops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from vns_sdk._json import dumps_text
from vns_sdk.exceptions import ConfigurationError, StateStoreError
from vns_sdk.state._tokens import new_token
from vns_sdk.state._turns import LocalTurns
from vns_sdk.state.base import ENDED, CallRecord, CallSnapshot, CallStateStore, Lease

try:
    from redis.exceptions import RedisError

    from vns_sdk.state import _redis_scripts as scripts
    from vns_sdk.state import _redis_wire
    from vns_sdk.state._redis_calls import Calls, Decoded, Seen
    from vns_sdk.state._redis_connect import RedisClient, RedisTarget, describe_client
    from vns_sdk.state._redis_wire import Command
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("RedisCallStateStore needs redis-py: install it with pip install 'vns-sdk[redis]'") from exc

__all__ = ["RedisCallStateStore"]

logger = logging.getLogger("vns_sdk.state")


# What a command can fail with: redis-py's errors, the socket's, and (on some Python versions) the transport's
# AttributeError or TypeError when a pooled connection was closed under it (redis-py issue 4287).
_CLIENT_ERRORS = (RedisError, OSError, AttributeError, TypeError)
_RESENDABLE = (AttributeError, TypeError)  # redis-py has resent a refused or reset connection's command already


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisCallStateStore(CallStateStore):
    """Keeps call records and call state in Redis, so that every worker sees every call.

    Args:
        url: A Redis URL (``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS, ``unix://``;
            redis-py's query options such as ``?ssl_ca_certs=/etc/ca.pem`` are accepted). In Sentinel mode
            the host is the name of the master the sentinels watch (``redis://:password@mymaster/0``).
            Defaults to ``VNS_REDIS_URL``.
        mode: ``standalone`` (one server, the default), ``cluster`` (a Redis Cluster: the URL of any of its
            nodes) or ``sentinel``. Defaults to ``VNS_REDIS_MODE``.
        sentinels: ``host:port`` of each sentinel, comma-separated (Sentinel mode). Defaults to
            ``VNS_REDIS_SENTINELS``.
        sentinel_password: The sentinels' own password, if they have one. Defaults to
            ``VNS_REDIS_SENTINEL_PASSWORD``.
        client: A `redis.asyncio.Redis` or `redis.asyncio.cluster.RedisCluster` to use instead of a URL. The
            store does not close a client it was given.
        key_prefix: Prefix of every key the store writes, to share one Redis database between apps.
        socket_timeout: Seconds to wait for Redis to connect or answer before the operation fails.
        retries: How many times a refused or reset connection is retried (tens of milliseconds apart).

    A store made from a URL may serve several event loops (redis-py's connections belong to the loop that
    opened them, so it opens connections in each), as the sync ``app.dial()`` does by running each store
    operation in a loop of its own. Call `aclose` before such a short-lived loop ends, to close the
    connections it opened.

    Raises:
        ConfigurationError: Neither ``url``, ``client`` nor ``VNS_REDIS_URL`` is given, or the settings do
            not describe a deployment (an unknown mode, Sentinel mode without sentinels).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        mode: str | None = None,
        sentinels: str | None = None,
        sentinel_password: str | None = None,
        client: RedisClient | None = None,
        key_prefix: str = "vns:",
        socket_timeout: float = 2.0,
        retries: int = 2,
    ) -> None:
        self._password: str | None = None
        self._factory: Callable[[], RedisClient] | None = None
        if client is None:
            if not url:
                from vns_sdk.settings import from_environment

                settings = from_environment()
                secret = settings.redis_url
                url = secret.get_secret_value() if secret is not None else None
                mode = mode or settings.redis_mode
                sentinels = sentinels or settings.redis_sentinels
                if sentinel_password is None and settings.redis_sentinel_password is not None:
                    sentinel_password = settings.redis_sentinel_password.get_secret_value()
            if not url:
                raise ConfigurationError(
                    "RedisCallStateStore needs a Redis URL: pass url=... or set the VNS_REDIS_URL environment variable"
                )
            target = RedisTarget.build(url, mode, sentinels, sentinel_password)
            self._password = target.password
            self._server = target.describe()
            self._factory = target.factory(socket_timeout=socket_timeout, retries=retries)
            client = self._factory()
        else:
            self._server = describe_client(client)
            pool = getattr(client, "connection_pool", None)
            if pool is not None:  # from the connection settings, so a password given as ?password= is masked too
                self._password = pool.connection_kwargs.get("password")
        self._client: RedisClient = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[asyncio.AbstractEventLoop, RedisClient] = {}
        self._prefix = key_prefix
        self._retries = retries
        self._calls = Calls(key_prefix)
        self._turns = LocalTurns()

    def __repr__(self) -> str:
        return f"RedisCallStateStore({self._server!r}, key_prefix={self._prefix!r})"

    def _redis(self) -> RedisClient:
        """The client for the running event loop."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return self._client
        return self._bind(loop)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> RedisClient:
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

    def _error(self, what: str, exc: Exception) -> StateStoreError:
        detail = f"{type(exc).__name__}: {exc}"
        if self._password:
            detail = detail.replace(self._password, "***")
        return StateStoreError(f"Redis call-state store ({self._server}) could not {what}: {detail}")

    def _call_keys(self, session_guid: str) -> list[str]:  # in the scripts' order: call, state, ended, lease, done
        return self._calls.keys(session_guid).keys

    def _dial_key(self, customer_call_id: str) -> str:
        return f"{self._prefix}dial:{customer_call_id}"

    def _decode(self, session_guid: str, raw_record: str, raw_state: str) -> Decoded:
        try:
            return self._calls.decode(raw_record, raw_state)
        except (ValueError, TypeError) as exc:
            raise self._error(f"decode call {session_guid!r}", exc) from exc

    async def _send(self, command: Command, tail: Sequence[str | int], what: str, subject: str) -> Any:
        """Send a command that answers the same when sent twice (every one here but taking a dial context); one
        that failed in the client's transport is sent again as it is (the async cluster client closes every
        connection when it reloads the slots, and a command in flight on one of them fails so). Its failure is
        a `StateStoreError` saying it could not ``what`` ``subject``."""
        failures = 0
        while True:
            try:
                return await _redis_wire.send(self._redis(), command, tail)
            except _RESENDABLE as exc:
                failures += 1
                if failures > self._retries:
                    raise self._error(f"{what} {subject!r}", exc) from exc
                await asyncio.sleep(0.01 * failures)
            except _CLIENT_ERRORS as exc:
                raise self._error(f"{what} {subject!r}", exc) from exc

    async def start_call(self, record: CallRecord, state: Mapping[str, str], ttl: float) -> None:
        """Store a new call's record and initial state (replacing any left from a call with the same id)."""
        guid, version, initial = record.session_guid, new_token(), dict(state)
        value = f"{version}\n{dumps_text(initial) if initial else ''}"
        args = (record.to_json(), _ms(ttl), value)
        command = scripts.START.on(self._call_keys(guid)[:2])
        await self._send(command, args, "store the start of call", guid)
        self._calls.remember(guid, version, record, initial, len(value))

    async def read_call(self, session_guid: str) -> CallSnapshot:
        """The call's record and state, read together in one round trip, without a lease."""
        command = self._calls.keys(session_guid).read  # keys of one slot: one command on a cluster too
        found = await self._send(command, (), "load call", session_guid)
        if found[0] is not None:
            return ENDED
        raw_record, raw_state = (_text(value) if value is not None else "" for value in found[1:])
        record, _, decoded = self._decode(session_guid, raw_record, raw_state)
        return CallSnapshot(record, decoded)

    async def acquire_call(self, session_guid: str, *, lease_seconds: float, wait_seconds: float) -> CallSnapshot:
        """Take the call's lease and read it in one round trip; while it is held, ask again after short pauses.

        A try whose answer was lost is sent again with the same token, which gets the lease back if that try
        had taken it (rather than leaving it to expire and hold up the call).
        """
        token = new_token()
        command = self._calls.keys(session_guid).acquire

        async def attempt() -> CallSnapshot | float:
            seen = self._calls.seen(session_guid)
            args = (token, _ms(lease_seconds), seen.version if seen is not None else "")
            reply = _text(await self._send(command, args, "take the lease of call", session_guid))
            taken = time.monotonic()
            found = self._answered(session_guid, reply, seen)
            if isinstance(found, CallSnapshot) and not found.ended:
                found.lease = Lease(session_guid, token, taken + lease_seconds, found.state)
            return found

        return await self._turns.wait(session_guid, token, wait_seconds, wait_seconds + lease_seconds, attempt)

    async def end_call(
        self, session_guid: str, *, claimant: str, wait_seconds: float, lease_seconds: float, ttl: float
    ) -> CallSnapshot:
        """Wait for the lease, record the end and take the call, in one round trip when no handler holds the lease.

        The record and state stay ``lease_seconds`` more, for ``claimant`` asking again after a lost answer.
        """
        command = scripts.END.on(self._call_keys(session_guid))

        async def attempt() -> CallSnapshot | float:
            seen = self._calls.seen(session_guid)
            args = (claimant, _ms(ttl), _ms(lease_seconds), seen.version if seen is not None else "")
            reply = _text(await self._send(command, args, "end call", session_guid))
            if reply == "G":
                raise StateStoreError(f"call {session_guid!r} was ended by this CallEnd already: its state is gone")
            return self._answered(session_guid, reply, seen, keep=False)

        snapshot = await self._turns.wait(session_guid, claimant, wait_seconds, wait_seconds + lease_seconds, attempt)
        self._calls.drop(session_guid)
        return snapshot

    def _answered(self, session_guid: str, reply: str, seen: Seen | None, keep: bool = True) -> CallSnapshot | float:
        """What ``ACQUIRE`` or ``END`` answered: the call (without a lease), `ENDED`, or the seconds left of the
        lease another handler holds; the state read is kept for the call's next turn (``keep``)."""
        head = reply[:1]
        if head == "E":
            self._calls.forget(session_guid)
            return ENDED
        if head == "B":
            return max(int(reply[1:]), 1) / 1000  # PTTL: -2 when it was released in between
        if reply == "=" and seen is not None:  # the state is still the one this worker last saw
            record, state = seen.record, seen.state
        else:
            raw_record, _, raw_state = reply.partition("\n")
            record, version, state = self._decode(session_guid, raw_record, raw_state)
            if not keep:
                return CallSnapshot(record, state)  # nobody else holds this dict
            self._calls.remember(session_guid, version, record, state, len(raw_state))
        return CallSnapshot(record, dict(state))  # the handler's own: what this worker keeps must not change under it

    async def save_call(self, lease: Lease, updates: Mapping[str, str], deleted: Collection[str], ttl: float) -> bool:
        """Apply the diff and release the lease in one round trip, unless a later lease was taken.

        The holder of the lease is the only writer, so the state is written whole: what was read with the lease,
        with the diff applied.
        """
        guid = lease.session_guid
        state: dict[str, str] | None = None
        whole = ""
        if updates or deleted:
            state = dict(lease.state)
            state.update(updates)
            for key in deleted:
                state.pop(key, None)
            whole = f"{lease.token}\n{dumps_text(state) if state else ''}"
        args = (lease.token, _ms(ttl), whole)
        seen = self._calls.seen(guid)  # kept only once the save is known to be applied (Redis checks the version)
        try:
            saved = bool(await self._send(self._calls.keys(guid).save, args, "save the state of call", guid))
            if saved:
                self._calls.saved(guid, seen, lease.token, state, len(whole))
            return saved
        finally:
            # Saved, refused or failed, the next handler of this process may ask: the lease, if still held,
            # expires on its own, and a save tried again does not need the turn.
            self._turns.give_back(lease.session_guid, lease.token)

    async def claim_call_end(self, session_guid: str, ttl: float, *, claimant: str | None = None) -> bool:
        """``True`` for the first CallEnd of a call across every worker (and to it again), ``False`` for its repeats."""
        command = scripts.CLAIM_END.on(self._call_keys(session_guid)[2:4])
        args = (claimant or secrets.token_hex(8), _ms(ttl))
        return bool(await self._send(command, args, "claim the CallEnd of call", session_guid))

    async def delete_call(self, session_guid: str) -> None:
        """Forget the call: every key but its CallEnd marker, which expires on its own."""
        call, state, _, lease, done = self._call_keys(session_guid)
        self._turns.give_back(session_guid)
        self._calls.drop(session_guid)
        command = Command(("DEL", call, state, lease, done), 0)
        await self._send(command, (), "delete call", session_guid)

    async def put_dial_context(self, customer_call_id: str, state: Mapping[str, str], ttl: float) -> None:
        """Keep an outbound call's context until its CallStart takes it."""
        command = Command(("SET", self._dial_key(customer_call_id), json.dumps(dict(state))), 2)
        await self._send(command, ("PX", _ms(ttl)), "store the dial context of customerCallId", customer_call_id)

    async def pop_dial_context(self, customer_call_id: str) -> dict[str, str] | None:
        """Take an outbound call's context: of concurrent takers, exactly one gets it."""
        try:
            command = scripts.POP_DIAL.on([self._dial_key(customer_call_id)])
            raw = await _redis_wire.send(self._redis(), command, ())
        except _CLIENT_ERRORS as exc:
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
        except _CLIENT_ERRORS as exc:
            logger.warning("%s", self._error("answer a PING", exc))
            return False

    async def aclose(self) -> None:
        """Close the connections the store opened in this event loop; a client it was given is left open."""
        client = self._redis()
        await _redis_wire.close(client)  # the connections kept for the scripts are the store's own
        if self._factory is None:
            return
        await client.aclose()
        # A Sentinel master's pool asks the sentinels for the master through clients of its own.
        manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
        for sentinel in getattr(manager, "sentinels", ()):
            await sentinel.aclose()
