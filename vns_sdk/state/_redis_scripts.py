"""The Lua scripts of the Redis call-state store: each one runs atomically, in one round trip.

Every script of a call names its keys in ``KEYS`` and they share the ``{<sessionGuid>}`` hash tag, so
Redis Cluster runs each one on the node that holds the call. The keys of a call, in ``KEYS`` order:

1. ``call``: the `CallRecord`, a JSON string;
2. ``state``: the whole state, one JSON object whose values are the JSON text of each state value
   (``{"cart": "[\\"pizza\\"]"}``), after its version and a newline: ``<version>\\n<JSON>``. Only the
   holder of the lease writes it, so it writes it whole: no merging on the server, and reading it is a
   plain ``GET``. The version (the token of the lease that wrote it, or a new one at CallStart) tells a
   worker that the state it remembers is still the call's, so ``ACQUIRE`` need not send it back;
3. ``ended``: the CallEnd marker;
4. ``lease``: the lease, the holder's unique token, expiring with the lease (``PX``). The token is the
   fence: a save is applied only while the lease key still holds the saver's token, checked in the same
   script that writes, on the server that grants the leases;
5. ``done``: the tokens of the saves applied, a HASH (see ``SAVE``).

A handler that does not change the state reads the call with one ``MGET`` of ``ended``, ``call`` and
``state``: no script at all. The scripts are kept to the fewest commands on their usual path (two for
``ACQUIRE``, six for ``SAVE``), and the one reply the client parses is a single bulk string.

The scripts are sent by their SHA1 through `vns_sdk.state._redis_wire`, with each call's keys encoded once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vns_sdk.state._redis_wire import Command

__all__ = ["ACQUIRE", "CLAIM_END", "END", "POP_DIAL", "SAVE", "START", "Script"]


class Script:
    """A Lua script, run by its SHA1 (`Script.on`) and loaded into a server the first time that server does not know it.

    Args:
        source: The Lua source.
        args: How many ``ARGV`` each run passes.
    """

    __slots__ = ("args", "sha", "source")

    def __init__(self, source: str, args: int) -> None:
        self.source = source
        self.args = args
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def on(self, keys: Sequence[str]) -> Command:
        """The script's command on ``keys``, encoded once to be run many times."""
        return Command(("EVALSHA", self.sha, len(keys), *keys), self.args, self.source)


# KEYS: call, state, ended, lease. ARGV: token, lease (ms), the version of the state the asker remembers (or "").
# Answers "E" for a call that has ended; "B<ms>" while another holds the lease (<ms>: what is left of it);
# else takes the lease and answers "=" when the state is still at the version the asker remembers, or
# "<record JSON or empty>\n<state: version\nJSON, or empty>" (JSON holds no raw newline). A holder asking
# again with its own token (its reply was lost) gets its lease back.
ACQUIRE = Script(
    """
local found = redis.call('MGET', KEYS[3], KEYS[1], KEYS[2])
if found[1] then return 'E' end
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 'B' .. redis.call('PTTL', KEYS[4]) end
  redis.call('PEXPIRE', KEYS[4], ARGV[2])
end
local state = found[3] or ''
if ARGV[3] ~= '' and string.sub(state, 1, #ARGV[3] + 1) == ARGV[3] .. '\\n' then return '=' end
return (found[2] or '') .. '\\n' .. state
""",
    3,
)

# KEYS: call, state, ended, lease, done. ARGV: token, ttl (ms), then the whole new state ("<token>\n<JSON>"),
# or "" to leave it as it is. Answers 1 when applied, 0 when refused: the lease is no longer the saver's
# (it ran out, and another handler may have taken it; CallEnd removes it). A save sent again after its reply
# was lost finds its token in "done" and is answered 1, whatever other handlers did in between.
SAVE = Script(
    """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then
  return redis.call('HEXISTS', KEYS[5], ARGV[1])
end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[5], ARGV[2])
redis.call('DEL', KEYS[4])
return 1
""",
    3,
)

# KEYS: call, state. ARGV: record JSON, ttl (ms), the initial state ("<version>\n<JSON or empty>").
START = Script(
    """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
""",
    3,
)

# KEYS: ended marker, lease. ARGV: claimant token, ttl (ms). Answers 1 to the first claimant, and to it again
# if it retries after a lost reply, so a retried claim never skips the CallEnd it won. The first claim also
# drops the lease, so a handler still holding it cannot save after the end.
CLAIM_END = Script(
    """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
""",
    2,
)

# KEYS: call, state, ended, lease, done. ARGV: claimant token, the end's ttl (ms), how long the record, the
# state and the saves' tokens stay (ms), the version of the state the asker remembers (or ""). CallEnd in one
# step: answers "E" when another claimant ended the call, "B<ms>" while a handler holds the lease; else records
# the end (unless this claimant did already: it asks again after a lost reply), leaves the record, the state
# and the saves' tokens to expire soon (a claimant asking again still gets the state, empty for a call never
# stored, and a save sent again after a lost reply is still recognized), and answers the call as ACQUIRE does,
# or "G" to a claimant asking again once the state has gone.
END = Script(
    """
local marker = redis.call('GET', KEYS[3])
if marker and marker ~= ARGV[1] then return 'E' end
if not marker then
  local held = redis.call('PTTL', KEYS[4])
  if held ~= -2 then return 'B' .. held end
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  if redis.call('PEXPIRE', KEYS[2], ARGV[3]) == 0 then redis.call('SET', KEYS[2], '', 'PX', ARGV[3]) end
  redis.call('PEXPIRE', KEYS[5], ARGV[3])
elseif redis.call('EXISTS', KEYS[2]) == 0 then
  return 'G'
end
local found = redis.call('MGET', KEYS[1], KEYS[2])
local state = found[2] or ''
if ARGV[4] ~= '' and string.sub(state, 1, #ARGV[4] + 1) == ARGV[4] .. '\\n' then return '=' end
return (found[1] or '') .. '\\n' .. state
""",
    4,
)

# KEYS: dial context. Takes it: GET and DEL in one step (GETDEL needs Redis 6.2).
POP_DIAL = Script(
    """
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
""",
    0,
)
