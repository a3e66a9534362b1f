"""Lua text shared by the scripts: status helpers, Redis's clock, and the one GCRA.

`PRELUDE` starts every script of `lockservice.scripts` and `lockservice.adminscripts`.
Time comes from Redis itself (`TIME`), never from an app host, so hosts whose
clocks disagree still agree on when a hold expires; a caller may pin the time
instead (tests' fake clock) by passing a positive `clock` argument. `GCRA` is
the single rate-limit step every script that charges a bucket is built with.
"""

from __future__ import annotations

from seatmap.status import SeatStatus

PRELUDE = (
    "local AVAILABLE, HELD, SOLD, BLOCKED, CONFIRMING = "
    f"{SeatStatus.AVAILABLE.value}, {SeatStatus.HELD.value}, {SeatStatus.SOLD.value}, "
    f"{SeatStatus.BLOCKED.value}, {SeatStatus.CONFIRMING.value}\n"
    """
local function seat_status(key, i)
  local b = string.byte(redis.call('GETRANGE', key, i, i))
  if b == nil then return -1 end
  return b
end
local function set_status(key, i, v) redis.call('SETRANGE', key, i, string.char(v)) end
local function int(x) return string.format('%d', x) end
local function append_log(key, maxlen, kind, status, seats)
  return redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'kind', kind,
    'status', int(status), 'seats', table.concat(seats, ','))
end
local function split(csv)
  local out = {}
  for s in string.gmatch(csv or '', '[^,]+') do out[#out + 1] = tonumber(s) end
  return out
end
local function add_count(key, field, n)
  if field and field ~= '' and redis.call('HINCRBY', key, field, n) <= 0 then
    redis.call('HDEL', key, field)
  end
end
-- Milliseconds since the Unix epoch by Redis's clock, unless the caller pinned a time.
local function clock_ms(pinned)
  local p = tonumber(pinned)
  if p and p > 0 then return p end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- 'missing' (unknown, or another buyer's), 'expired' (due but not swept yet), or the state.
local function hold_state(hold_key, expiry_key, token, buyer, now)
  local h = redis.call('HMGET', hold_key, 'buyer', 'state', 'expires_ms')
  if not h[1] or (buyer ~= '' and h[1] ~= buyer) then return 'missing' end
  if h[2] == 'held' and (tonumber(h[3]) <= now or not redis.call('ZSCORE', expiry_key, token))
  then return 'expired' end
  return h[2]
end
"""
)

GCRA = """
-- GCRA: a bucket allows a burst of `window` ms worth of requests, then one per `interval`.
-- The key holds the "theoretical arrival time" in ms and lives as long as it lies ahead.
-- gcra_wait: ms until one more request would be allowed (0 = now); spends nothing.
local function gcra_wait(key, now, interval, window)
  if interval <= 0 then return 0 end
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
  return math.max(0, tat + interval - now - window)
end
-- gcra_spend: charge one request to a bucket that gcra_wait found open.
local function gcra_spend(key, now, interval)
  if interval <= 0 then return end
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
  redis.call('SET', key, int(tat + interval), 'PX', int(tat + interval - now))
end
-- Charge one request to every bucket, or to none if any is exhausted: 0 or ms to wait.
local function gcra_charge(keys, now, intervals, window)
  local wait = 0
  for i = 1, #keys do wait = math.max(wait, gcra_wait(keys[i], now, intervals[i], window)) end
  if wait > 0 then return wait end
  for i = 1, #keys do gcra_spend(keys[i], now, intervals[i]) end
  return 0
end
"""

NO_EPOCH = "no_epoch"
