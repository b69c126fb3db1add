"""The Lua scripts that make each layer operation one round trip.

Channels are sorted sets scored by send time, as in channels_redis 4, so that both layers
read and write the same keys. Every script trims expired messages before it counts or pops.
A script runs atomically, so what it reads and what it writes cannot be overtaken by another
process; each touches the keys of one shard only. ``docs/redis-layer.md`` says what each one
guarantees.
"""

from __future__ import annotations

from .wire.commands import Script

# Adds one message to each key that has room. ARGV[1]: expiry cutoff score; ARGV[2]: key TTL
# in milliseconds; ARGV[3]: the message score; then a (member, capacity) pair per key. Returns how
# many keys were full (their message was not added).
#
# A send that may be tried again (``once``) adds its sender's mark key after the channel keys,
# and three arguments after the pairs: its token, the mark's TTL in milliseconds, and '1' on a
# retry. A retry whose mark already holds its token was added by an earlier try: nothing is
# added (returns 0). Otherwise the mark is set to the token once a message is added.
PUSH = """
local channels = #KEYS
local mark, token
if #ARGV > 3 + 2 * channels then
  channels = channels - 1
  mark, token = KEYS[#KEYS], ARGV[#ARGV - 2]
  if ARGV[#ARGV] == '1' and redis.call('GET', mark) == token then
    return 0
  end
end
local cutoff = '(' .. ARGV[1]
local full = 0
for i = 1, channels do
  local key = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  if redis.call('ZCARD', key) < tonumber(ARGV[3 + 2 * i]) then
    redis.call('ZADD', key, ARGV[3], ARGV[2 + 2 * i])
    redis.call('PEXPIRE', key, ARGV[2])
  else
    full = full + 1
  end
end
if mark and full < channels then
  redis.call('SET', mark, token, 'PX', ARGV[#ARGV - 1])
end
return full
"""

# Pops waiting messages without blocking. KEYS[1]: a key to clear (a listener's wake-up key,
# since the listener is awake; or one that never exists); KEYS[2..n]: channel keys.
# ARGV[1]: expiry cutoff score; ARGV[2]: a budget shared by keys with a positive limit;
# ARGV[i + 1]: the most to pop from KEYS[i] (negative: that many, outside the budget).
# Returns {{remaining count per channel key}, key number, {member, score, ...}, ...} with key
# numbers counted from 1 over the channel keys.
TAKE = """
redis.call('DEL', KEYS[1])
local cutoff = '(' .. ARGV[1]
local budget = tonumber(ARGV[2])
local remaining = {}
local taken = {remaining}
for i = 2, #KEYS do
  local limit = tonumber(ARGV[i + 1])
  local shared = limit > 0
  if shared then limit = math.min(limit, budget) else limit = -limit end
  if limit > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', cutoff)
    local popped = redis.call('ZPOPMIN', KEYS[i], limit)
    if #popped > 0 then
      taken[#taken + 1] = i - 1
      taken[#taken + 1] = popped
      if shared then budget = budget - #popped / 2 end
    end
  end
  remaining[i - 1] = redis.call('ZCARD', KEYS[i])
end
return taken
"""

# The lowest score waiting in KEYS[1] (as a string, or nil when it is empty), after dropping
# what expired before ARGV[1]. Only the score is returned: the member may be large.
HEAD = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
"""

# Drops group members added before ARGV[1] and returns the others. KEYS[1]: the group key.
GROUP_MEMBERS = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""

# Puts taken messages back with their original scores (so they keep their place in line).
# KEYS: channel keys; ARGV: a (score, member) pair per key; ARGV[#ARGV]: key TTL in milliseconds.
PUT_BACK = """
local ttl = ARGV[#ARGV]
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2 * i - 1], ARGV[2 * i])
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"""

push = Script(PUSH)
take = Script(TAKE)
head = Script(HEAD)
group_members = Script(GROUP_MEMBERS)
put_back = Script(PUT_BACK)
