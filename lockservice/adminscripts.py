"""Lua scripts for operators and maintenance (block, reconcile, rebuild), rate limits,
and the registry that loads every script once per Redis client.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.commands.core import AsyncScript

from lockservice import scripts
from lockservice.luashared import GCRA, PRELUDE
from seatmap.redisclient import RedisClient

BLOCK = """
-- Take seats off sale (block) or put blocked seats back on sale (unblock).
-- KEYS: 1 epoch, 2 status, 3 log
-- ARGV: 1 stream maxlen, 2 'block' | 'unblock', 3.. seat indices
-- Returns: {'ok', log id or '', seats changed} | {'seats_taken', index...} | {'no_epoch'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_epoch'} end
local block = ARGV[2] == 'block'
local changed, taken = {}, {}
for b = 3, #ARGV do
  local s = tonumber(ARGV[b])
  local st = seat_status(KEYS[2], s)
  if block and st == AVAILABLE then changed[#changed + 1] = s
  elseif block and st ~= BLOCKED then taken[#taken + 1] = s
  elseif not block and st == BLOCKED then changed[#changed + 1] = s end
end
if #taken > 0 then return {'seats_taken', unpack(taken)} end
local to = block and BLOCKED or AVAILABLE
for _, s in ipairs(changed) do set_status(KEYS[2], s, to) end
local id = ''
if #changed > 0 then id = append_log(KEYS[3], ARGV[1], ARGV[2], to, changed) end
return {'ok', id, #changed}
"""

RECONCILE = """
-- Make the live statuses agree with PostgreSQL: sold seats win over anything, blocked
-- seats win over available ones, and seats Redis calls sold/blocked that PostgreSQL
-- does not know (read before PostgreSQL was) go back on sale.
-- KEYS: 1 epoch, 2 status, 3 fencing, 4 log
-- ARGV: 1 stream maxlen, 2 lowest allowed fencing, 3 sold csv, 4 blocked csv, 5 demote csv
-- Returns: {'ok', seats made sold, seats made blocked, seats made available} | {'no_epoch'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_epoch'} end
local function fix(csv, to, when)
  local changed = {}
  for _, s in ipairs(split(csv)) do
    local st = seat_status(KEYS[2], s)
    if st >= 0 and st ~= to and when(st) then
      set_status(KEYS[2], s, to)
      changed[#changed + 1] = s
    end
  end
  if #changed > 0 then append_log(KEYS[4], ARGV[1], 'reconcile', to, changed) end
  return #changed
end
local sold = fix(ARGV[3], SOLD, function(st) return true end)
local blocked = fix(ARGV[4], BLOCKED, function(st) return st == AVAILABLE end)
local demoted = fix(ARGV[5], AVAILABLE, function(st) return st == SOLD or st == BLOCKED end)
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], ARGV[2])
end
return {'ok', sold, blocked, demoted}
"""

REBUILD = """
-- Create an event's live state from PostgreSQL when its epoch key is missing (new event,
-- or Redis lost its data): statuses, per-buyer counts, and fencing raised to the new
-- epoch's floor. Holds from before are void (their records name an older epoch).
-- The epoch key is written last, so no other script runs on a half-built state.
-- KEYS: 1 epoch, 2 status, 3 fencing, 4 buyers, 5 expiry, 6 log, 7 addresses
-- ARGV: 1 stream maxlen, 2 status bytes, 3 epoch, 4 lowest allowed fencing,
--       5.. buyer id, seats pairs
-- Returns: 1 when built, 0 when the event already had an epoch
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[3], ARGV[4])
end
redis.call('DEL', KEYS[4], KEYS[5], KEYS[7])
for b = 5, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[b], ARGV[b + 1]) end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[1], '*', 'kind', 'reset', 'status', '0',
  'seats', '')
redis.call('SET', KEYS[1], ARGV[3])
return 1
"""

DUE = """
-- The holds of one event that are due, by Redis's clock (or the pinned test time).
-- KEYS: 1 expiry
-- ARGV: 1 clock, 2 most tokens returned
-- Returns: hold tokens, soonest due first
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', clock_ms(ARGV[1]), 'LIMIT', 0, ARGV[2])
"""

RATE = """
-- Spend one request from each bucket, or none if any is exhausted (GCRA of the prelude).
-- KEYS: buckets
-- ARGV: 1 clock, 2 window_ms, 3.. interval_ms per bucket (window / limit; 0 = unlimited)
-- Returns: 0 when allowed, else the ms to wait before the next request would be allowed
local intervals = {}
for i = 1, #KEYS do intervals[i] = tonumber(ARGV[i + 2]) end
return gcra_charge(KEYS, clock_ms(ARGV[1]), intervals, tonumber(ARGV[2]))
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
    due: AsyncScript

    async def load(self, redis: RedisClient) -> None:
        """SCRIPT LOAD every script now, so the first calls need no round trip to load."""
        for name in self.__slots__:
            script: AsyncScript = getattr(self, name)
            script.sha = await redis.script_load(script.script)


def register_scripts(redis: RedisClient) -> Scripts:
    """Register all scripts on a client; nothing is sent to Redis until first use."""

    def reg(*parts: str) -> AsyncScript:
        return redis.register_script("".join(parts))

    hold_state = PRELUDE + scripts.HOLD_STATE
    return Scripts(
        hold=reg(hold_state, GCRA, scripts.HOLD),
        extend=reg(hold_state, scripts.EXTEND),
        release=reg(hold_state, scripts.RELEASE),
        expire=reg(hold_state, scripts.EXPIRE),
        mark_confirming=reg(hold_state, scripts.MARK_CONFIRMING),
        mark_sold=reg(hold_state, scripts.MARK_SOLD),
        block=reg(PRELUDE, BLOCK),
        reconcile=reg(PRELUDE, RECONCILE),
        rebuild=reg(REBUILD),
        rate=reg(PRELUDE, GCRA, RATE),
        due=reg(PRELUDE, DUE),
    )
