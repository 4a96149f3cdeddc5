"""The Lua scripts of the Redis call-state store: each one runs atomically, in one round trip.

Every script of a call names its keys in ``KEYS`` and they share the ``{<sessionGuid>}`` hash tag, so
Redis Cluster runs each one on the node that holds the call. The keys of a call, in ``KEYS`` order:

1. ``call``: the `CallRecord`, a JSON string;
2. ``state``: the whole state, one JSON object whose values are the JSON text of each state value
   (``{"cart": "[\\"pizza\\"]"}``). Only the holder of the lease writes it, so it writes it whole: no
   merging on the server, and reading it is one ``GET``;
3. ``ended``: the CallEnd marker;
4. ``lease``: the lease, the holder's random token, expiring with the lease (``PX``);
5. ``fence``: the call's lease counter. It is seeded from the server's clock in milliseconds when it
   does not exist, so a counter that expired and is made again still counts up from every earlier value;
6. ``saved``: the tokens of the call's last 16 saves (see ``SAVE``).

Replies the client parses on every tool call are one bulk string, ``"<record>\\n<state>"``: far cheaper for
redis-py than an array, and the scripts do no encoding of their own.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "CLAIM_END", "POP_DIAL", "READ", "SAVE", "START"]

# The record and the state, as "<record JSON or empty>\n<state JSON or empty>" (JSON holds no raw newline).
_RECORD_AND_STATE = "(redis.call('GET', KEYS[1]) or '') .. '\\n' .. (redis.call('GET', KEYS[2]) or '')"

# KEYS: call, state, ended. Answers "E" for a call that has ended, else the record and the state.
READ = f"""
if redis.call('EXISTS', KEYS[3]) == 1 then return 'E' end
return {_RECORD_AND_STATE}
"""

# KEYS: call, state, ended, lease, fence. ARGV: token, lease (ms).
# Answers "E" for a call that has ended; "B<ms>" while another holds the lease (<ms>: what is left of it);
# else takes the lease and answers "<fence>\n<record>\n<state>". A holder asking again with its own token
# (its reply was lost) gets its lease back, with the same fence.
ACQUIRE = f"""
if redis.call('EXISTS', KEYS[3]) == 1 then return 'E' end
local fence = false
local holder = redis.call('GET', KEYS[4])
if holder == ARGV[1] then
  fence = redis.call('GET', KEYS[5])
  redis.call('PEXPIRE', KEYS[4], ARGV[2])
elseif holder then
  return 'B' .. redis.call('PTTL', KEYS[4])
else
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
end
if not fence then
  local next = redis.call('INCR', KEYS[5])
  if next == 1 then  -- a new counter: seeded from the clock
    local now = redis.call('TIME')
    next = now[1] * 1000 + math.floor(now[2] / 1000)
    redis.call('SET', KEYS[5], string.format('%d', next), 'PX', ARGV[2])
  end
  fence = string.format('%d', next)
end
return fence .. '\\n' .. {_RECORD_AND_STATE}
"""

# KEYS: call, state, ended, lease, fence, saved. ARGV: token, fence, ttl (ms), then the whole new state
# (JSON), "" to leave it as it is or "-" to remove it. Answers 1 when applied, 0 when refused: a later lease
# was taken (the fence moved on), or the call has ended (CallEnd removes the fence). A fence that is gone while
# the call is live means the store lost the call's keys: the state is written, since it is all that is left.
# "saved" lists the tokens of the last saves applied, so a save sent again after its reply was lost is
# answered 1 even when another handler has taken the call since.
SAVE = """
local fence = redis.call('GET', KEYS[5])
if fence ~= ARGV[2] then
  for _, token in ipairs(redis.call('LRANGE', KEYS[6], 0, -1)) do
    if token == ARGV[1] then return 1 end
  end
  if fence or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
end
if ARGV[4] == '-' then
  redis.call('DEL', KEYS[2])
elseif ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if fence then redis.call('PEXPIRE', KEYS[5], ARGV[3]) end
redis.call('LPUSH', KEYS[6], ARGV[1])
redis.call('LTRIM', KEYS[6], 0, 15)
redis.call('PEXPIRE', KEYS[6], ARGV[3])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
return 1
"""

# KEYS: call, state. ARGV: record JSON, ttl (ms), the initial state (JSON, or "" for none).
START = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
end
return 1
"""

# KEYS: ended marker. ARGV: claimant token, ttl (ms). Answers 1 to the first claimant, and to it again if
# it retries after a lost reply, so a retried claim never skips the CallEnd it won.
CLAIM_END = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""

# KEYS: dial context. Takes it: GET and DEL in one step (GETDEL needs Redis 6.2).
POP_DIAL = """
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
"""
