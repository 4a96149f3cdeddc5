"""The Lua scripts of the Redis call-state store: each one runs atomically, in one round trip.

Every script of a call names its keys in ``KEYS`` and they share the ``{<sessionGuid>}`` hash tag, so
Redis Cluster runs each one on the node that holds the call. The keys of a call, in ``KEYS`` order:

1. ``call``: the `CallRecord`, a JSON string;
2. ``state``: the state, a HASH with one field per state key (values JSON);
3. ``ended``: the CallEnd marker;
4. ``lease``: the lease, the holder's random token, expiring with the lease (``PX``);
5. ``fence``: the call's lease counter. It is seeded from the server's clock in milliseconds when it
   does not exist, so a counter that expired and is made again still counts up from every earlier value;
6. ``saved``: the tokens of the call's last 16 saves (see ``SAVE``).

Replies are one bulk string where the client has to parse a reply on every tool call: far cheaper for
redis-py than an array (an ``HGETALL`` reply costs the client two thirds of a tool call).
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "CLAIM_END", "POP_DIAL", "READ", "SAVE", "START"]

# The record and the state as "<record JSON or empty>\n<state as a JSON object>" (a record's JSON holds no
# raw newline). Used by READ and ACQUIRE.
_RECORD_AND_STATE = """
local record = redis.call('GET', KEYS[1]) or ''
local flat = redis.call('HGETALL', KEYS[2])
local state = {}
for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
"""
_ENCODED = "record .. '\\n' .. (#flat > 0 and cjson.encode(state) or '{}')"

# KEYS: call, state, ended. Answers "E" for a call that has ended, else the record and the state.
READ = f"""
if redis.call('EXISTS', KEYS[3]) == 1 then return 'E' end
{_RECORD_AND_STATE}
return {_ENCODED}
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
  if redis.call('EXISTS', KEYS[5]) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', KEYS[5], string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000)), 'PX', ARGV[2])
  end
  fence = string.format('%d', redis.call('INCR', KEYS[5]))
end
{_RECORD_AND_STATE}
return fence .. '\\n' .. {_ENCODED}
"""

# KEYS: call, state, ended, lease, fence, saved. ARGV: token, fence, ttl (ms), number of updated fields n,
# n field/value pairs, then the fields to delete. Answers 1 when applied, 0 when refused: the call has ended,
# or a later lease was taken (the fence moved on). A fence that is gone while the call is live means the
# store lost the call's keys: the diff is applied, since it is all that is left. "saved" lists the tokens of
# the last saves applied, so a save sent again after its reply was lost is answered 1 even when another
# handler has taken the call since.
SAVE = """
local recent = redis.call('LRANGE', KEYS[6], 0, -1)
for _, token in ipairs(recent) do
  if token == ARGV[1] then return 1 end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local fence = redis.call('GET', KEYS[5])
if fence and fence ~= ARGV[2] then return 0 end
local n = tonumber(ARGV[4])
local i = 5
for _ = 1, n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for j = i, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[j])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if fence then redis.call('PEXPIRE', KEYS[5], ARGV[3]) end
redis.call('LPUSH', KEYS[6], ARGV[1])
redis.call('LTRIM', KEYS[6], 0, 15)
redis.call('PEXPIRE', KEYS[6], ARGV[3])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
return 1
"""

# KEYS: call, state. ARGV: record JSON, ttl (ms), then field/value pairs of the initial state.
START = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
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
