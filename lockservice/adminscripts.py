"""Lua scripts for operators and maintenance (block, reconcile, rebuild), rate limits,
and the registry that loads every script once per Redis client.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from lockservice import scripts
from lockservice.scripts import PRELUDE

BLOCK = """
-- Take seats off sale (block) or put blocked seats back on sale (unblock).
-- KEYS: 1 status, 2 log
-- ARGV: 1 stream maxlen, 2 'block' | 'unblock', 3.. seat indices
-- Returns: {'ok', log id or '', seats changed} | {'seats_taken', index...} | {'no_state'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_state'} end
local block = ARGV[2] == 'block'
local changed, taken = {}, {}
for b = 3, #ARGV do
  local s = tonumber(ARGV[b])
  local st = seat_status(KEYS[1], s)
  if block and st == AVAILABLE then changed[#changed + 1] = s
  elseif block and st ~= BLOCKED then taken[#taken + 1] = s
  elseif not block and st == BLOCKED then changed[#changed + 1] = s end
end
if #taken > 0 then return {'seats_taken', unpack(taken)} end
local to = block and BLOCKED or AVAILABLE
for _, s in ipairs(changed) do set_status(KEYS[1], s, to) end
local id = ''
if #changed > 0 then id = append_log(KEYS[2], ARGV[1], ARGV[2], to, changed) end
return {'ok', id, #changed}
"""

RECONCILE = """
-- Make the live statuses agree with PostgreSQL: sold seats win over anything, blocked
-- seats win over available ones, and seats Redis calls sold/blocked that PostgreSQL
-- does not know (read before PostgreSQL was) go back on sale.
-- KEYS: 1 status, 2 fencing, 3 log
-- ARGV: 1 stream maxlen, 2 lowest allowed fencing, 3 sold csv, 4 blocked csv, 5 demote csv
-- Returns: {'ok', seats made sold, seats made blocked, seats made available} | {'no_state'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_state'} end
local function fix(csv, to, when)
  local changed = {}
  for _, s in ipairs(split(csv)) do
    local st = seat_status(KEYS[1], s)
    if st >= 0 and st ~= to and when(st) then
      set_status(KEYS[1], s, to)
      changed[#changed + 1] = s
    end
  end
  if #changed > 0 then append_log(KEYS[3], ARGV[1], 'reconcile', to, changed) end
  return #changed
end
local sold = fix(ARGV[3], SOLD, function(st) return true end)
local blocked = fix(ARGV[4], BLOCKED, function(st) return st == AVAILABLE end)
local demoted = fix(ARGV[5], AVAILABLE, function(st) return st == SOLD or st == BLOCKED end)
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[2])
end
return {'ok', sold, blocked, demoted}
"""

REBUILD = """
-- Create an event's live state from PostgreSQL when its status key is missing (new event,
-- or Redis lost its data). Holds that survived without a status are void.
-- KEYS: 1 status, 2 fencing, 3 buyers, 4 expiry, 5 log
-- ARGV: 1 stream maxlen, 2 status bytes, 3 lowest allowed fencing, 4.. buyer id, seats pairs
-- Returns: 1 when built, 0 when the status already existed
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[3])
end
redis.call('DEL', KEYS[3], KEYS[4])
for b = 4, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[b], ARGV[b + 1]) end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[1], '*', 'kind', 'reset', 'status', '0',
  'seats', '')
return 1
"""

RATE = """
-- Spend one request from each bucket, or none if any is exhausted (GCRA: a burst of up to
-- `window` worth of requests, then one per interval).
-- KEYS: buckets
-- ARGV: 1 now_ms, 2 window_ms, 3.. interval_ms per bucket (window / limit; 0 = unlimited)
-- Returns: 0 when allowed, else the ms to wait before the next request would be allowed
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, #KEYS do
  local interval = tonumber(ARGV[i + 2])
  if interval > 0 then
    local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
    local ahead = tat + interval - now
    if ahead > window then return ahead - window end
  end
end
local wait = 0
for i = 1, #KEYS do wait = math.max(wait, gcra(KEYS[i], now, tonumber(ARGV[i + 2]), window)) end
return wait
"""


@dataclass(frozen=True, slots=True)
class Scripts:
    """Every script registered on one Redis client (called by SHA, reloaded on NOSCRIPT)."""

    hold: AsyncScript
    extend: AsyncScript
    release: AsyncScript
    expire: AsyncScript
    mark_confirming: AsyncScript
    mark_sold: AsyncScript
    block: AsyncScript
    reconcile: AsyncScript
    rebuild: AsyncScript
    rate: AsyncScript

    async def load(self, redis: aioredis.Redis) -> None:
        """SCRIPT LOAD every script now, so the first calls need no round trip to load."""
        for name in self.__slots__:
            script: AsyncScript = getattr(self, name)
            script.sha = await redis.script_load(script.script)


def register_scripts(redis: aioredis.Redis) -> Scripts:
    """Register all scripts on a client; nothing is sent to Redis until first use."""

    def reg(body: str, prelude: bool = True) -> AsyncScript:
        return redis.register_script((PRELUDE if prelude else "") + body)

    return Scripts(
        hold=reg(scripts.HOLD),
        extend=reg(scripts.EXTEND),
        release=reg(scripts.RELEASE),
        expire=reg(scripts.EXPIRE),
        mark_confirming=reg(scripts.MARK_CONFIRMING),
        mark_sold=reg(scripts.MARK_SOLD),
        block=reg(BLOCK),
        reconcile=reg(RECONCILE),
        rebuild=reg(REBUILD, prelude=False),
        rate=reg(RATE),
    )
