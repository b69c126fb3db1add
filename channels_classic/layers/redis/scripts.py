"""The Lua scripts that make each layer operation one round trip, and how they are called.

Channels are sorted sets scored by send time, as in channels_redis 4, so that both layers
read and write the same keys. Every script trims expired messages before it counts or pops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError

# Adds one message to each key that has room. ARGV[1]: expiry cutoff score; ARGV[2]: key TTL
# in milliseconds; ARGV[3]: the message score; then a (member, capacity) pair per key. Returns how
# many keys were full (their message was not added).
PUSH = """
local cutoff = '(' .. ARGV[1]
local full = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  if redis.call('ZCARD', key) < tonumber(ARGV[3 + 2 * i]) then
    redis.call('ZADD', key, ARGV[3], ARGV[2 + 2 * i])
    redis.call('PEXPIRE', key, ARGV[2])
  else
    full = full + 1
  end
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


class Script:
    """A Lua script, run by its SHA1; calling it with keys and arguments makes a ScriptCall."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> ScriptCall:
        return ScriptCall(self, keys, args)


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One run of a script: sent as EVALSHA, or as EVAL (which also caches the script) when
    the server has forgotten it."""

    script: Script
    keys: Sequence[Any]
    args: Sequence[Any]

    def command(self, *, load: bool = False) -> tuple[Any, ...]:
        head = ("EVAL", self.script.source) if load else ("EVALSHA", self.script.sha)
        return (*head, len(self.keys), *self.keys, *self.args)


#: What the connections accept: a plain command, or a script call.
Command = tuple[Any, ...] | ScriptCall


def wire_form(command: Command) -> tuple[Any, ...]:
    """The command as written to Redis."""
    return command.command() if isinstance(command, ScriptCall) else command


def retry_of(command: Command, reply: Any) -> tuple[Any, ...] | None:
    """The command to send instead when ``reply`` says Redis has forgotten ``command``'s
    script (after SCRIPT FLUSH or a restart); None when the reply stands.

    Every connection, async or blocking, asks this about each reply of a script call.
    """
    if isinstance(reply, NoScriptError) and isinstance(command, ScriptCall):
        return command.command(load=True)
    return None


push = Script(PUSH)
take = Script(TAKE)
head = Script(HEAD)
group_members = Script(GROUP_MEMBERS)
put_back = Script(PUT_BACK)
