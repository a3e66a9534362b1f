"""The Lua scripts of the hold lifecycle; each is one atomic step that also logs its change.

Every script that changes seat statuses appends one change-log entry in the
format of `seatmap.livekeys` (kind, status, seats) with MAXLEN ~ in the same
step. Seat neighbours are passed in ARGV by the caller (from the venue model),
so the rules are decided against the statuses as they are when the script runs.
Times are Redis's (`clock_ms` of `lockservice.luashared`), so app hosts' clocks
do not matter.
Scripts are registered once per Redis client and called by SHA; redis-py's
Script objects reload a script on NOSCRIPT (after a restart or SCRIPT FLUSH).
Operator and maintenance scripts live in `lockservice.adminscripts`.
"""

from __future__ import annotations

# Every per-event script takes the event's epoch key as KEYS[1] and answers {'no_epoch'}
# without it (see `lockservice.keys`); ARGV "clock" is 0 for Redis's own TIME, or a pinned ms.
# `hold_state` of the prelude, bound to the event's epoch: holds of an earlier epoch are void.
HOLD_STATE = """
local function state_of(hold_key, expiry_key, token, buyer, now, epoch)
  if redis.call('HGET', hold_key, 'epoch') ~= epoch then return 'missing' end
  return hold_state(hold_key, expiry_key, token, buyer, now)
end
"""

HOLD = """
-- Take N seats for one buyer, all or nothing, checking the event's rules in the same step.
-- The attempt is first charged to the buyer's and the client address's rate budgets; the
-- seats the address holds at once, across all its buyer identities, are capped.
-- KEYS: 1 epoch, 2 status, 3 hold:{token}, 4 expiry, 5 buyers, 6 fencing, 7 log,
--       8 addresses, 9 rate bucket of the buyer, 10 rate bucket of the client address
-- ARGV: 1 buyer id, 2 hold token, 3 clock, 4 ttl_ms, 5 max_hold_ms, 6 max seats per buyer,
--       7 no_orphans (0|1), 8 contiguous (0|1), 9 restrict_accessible (0|1),
--       10 accessible requested (0|1), 11 stream maxlen, 12 buyer rate interval ms,
--       13 address rate interval ms (0 = not limited), 14 rate window ms,
--       15 the seats: six numbers per seat, space-separated: index, left, left of left,
--          right, right of right, restricted (0|1) (neighbours along the row; -1 at a row
--          end or an aisle). One string: it packs and sends faster than 6N arguments.
--       16 client address, 17 max seats held at once per address (0 = no cap)
-- Returns: {'ok', fencing, expires_ms, log id, created_ms, max_expires_ms} |
--          {'seats_taken', index...} | {'rule', code, index... or seats held already} |
--          {'rate_limited', wait_ms} | {'no_epoch'}
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local buyer, now = ARGV[1], clock_ms(ARGV[3])
local wait = gcra_charge({KEYS[9], KEYS[10]}, now, {tonumber(ARGV[12]), tonumber(ARGV[13])},
  tonumber(ARGV[14]))
if wait > 0 then return {'rate_limited', wait} end
local seats, chosen, restricted = {}, {}, {}
local left, left2, right, right2 = {}, {}, {}, {}
local n = {}
for x in string.gmatch(ARGV[15], '%S+') do n[#n + 1] = tonumber(x) end
for b = 1, #n, 6 do
  local s = n[b]
  seats[#seats + 1] = s
  chosen[s] = true
  left[s], left2[s], right[s], right2[s] = n[b + 1], n[b + 2], n[b + 3], n[b + 4]
  if n[b + 5] == 1 then restricted[#restricted + 1] = s end
end
if ARGV[9] == '1' and ARGV[10] ~= '1' and #restricted > 0 then
  return {'rule', 'accessible_only', unpack(restricted)}
end
if ARGV[8] == '1' then
  local runs = 0
  for _, s in ipairs(seats) do if not chosen[left[s]] then runs = runs + 1 end end
  if runs ~= 1 then return {'rule', 'not_contiguous'} end
end
local taken = {}
for _, s in ipairs(seats) do
  if seat_status(KEYS[2], s) ~= AVAILABLE then taken[#taken + 1] = s end
end
if #taken > 0 then return {'seats_taken', unpack(taken)} end
local have = tonumber(redis.call('HGET', KEYS[5], buyer) or '0')
if have + #seats > tonumber(ARGV[6]) then return {'rule', 'max_seats_per_buyer', have} end
local address, address_cap = ARGV[16], tonumber(ARGV[17])
if address_cap > 0 then
  local at_address = tonumber(redis.call('HGET', KEYS[8], address) or '0')
  if at_address + #seats > address_cap then
    return {'rule', 'max_seats_per_address', at_address}
  end
end
if ARGV[7] == '1' then
  local function free(i)
    return i >= 0 and not chosen[i] and seat_status(KEYS[2], i) == AVAILABLE
  end
  local orphans = {}
  for _, s in ipairs(seats) do
    if free(left[s]) and not free(left2[s]) then orphans[#orphans + 1] = left[s] end
    if free(right[s]) and not free(right2[s]) then orphans[#orphans + 1] = right[s] end
  end
  if #orphans > 0 then return {'rule', 'orphan_seat', unpack(orphans)} end
end
local fencing = redis.call('INCR', KEYS[6])
local max_expires = now + tonumber(ARGV[5])
local expires = math.min(now + tonumber(ARGV[4]), max_expires)
for _, s in ipairs(seats) do set_status(KEYS[2], s, HELD) end
redis.call('HSET', KEYS[3], 'buyer', buyer, 'address', address, 'epoch', epoch,
  'seats', table.concat(seats, ','), 'fencing', int(fencing), 'created_ms', int(now),
  'expires_ms', int(expires), 'max_expires_ms', int(max_expires), 'state', 'held',
  'accessible', ARGV[10])
redis.call('ZADD', KEYS[4], int(expires), ARGV[2])
add_count(KEYS[5], buyer, #seats)
add_count(KEYS[8], address, #seats)
local id = append_log(KEYS[7], ARGV[11], 'hold', HELD, seats)
return {'ok', fencing, expires, id, now, max_expires}
"""

EXTEND = """
-- Push a hold's expiry to now + ttl, never past its maximum total time, never earlier.
-- KEYS: 1 epoch, 2 hold:{token}, 3 expiry
-- ARGV: 1 buyer id, 2 hold token, 3 clock, 4 ttl_ms
-- Returns: {'ok', expires_ms, max_expires_ms} | {'missing'} | {'busy'} | {'gone', state} |
--          {'no_epoch'}
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local now = clock_ms(ARGV[3])
local state = state_of(KEYS[2], KEYS[3], ARGV[2], ARGV[1], now, epoch)
if state == 'missing' then return {'missing'} end
if state == 'confirming' then return {'busy'} end
if state ~= 'held' then return {'gone', state} end
local h = redis.call('HMGET', KEYS[2], 'expires_ms', 'max_expires_ms')
local max_expires = tonumber(h[2])
local expires = math.max(tonumber(h[1]), math.min(now + tonumber(ARGV[4]), max_expires))
redis.call('HSET', KEYS[2], 'expires_ms', int(expires))
redis.call('ZADD', KEYS[3], int(expires), ARGV[2])
return {'ok', expires, max_expires}
"""

RELEASE = """
-- Release a whole hold, or some of its seats (which must not leave an orphan seat).
-- KEYS: 1 epoch, 2 status, 3 hold:{token}, 4 expiry, 5 buyers, 6 log, 7 addresses
-- ARGV: 1 buyer id, 2 hold token, 3 clock, 4 stream maxlen, 5 no_orphans (0|1),
--       6 tombstone ttl ms, 7.. three per seat to release (none = all): index, left, right
-- Returns: {'ok', seats left in the hold, log id or ''} | {'missing'} | {'busy'} |
--          {'gone', state} | {'not_in_hold', index...} | {'rule', 'orphan_seat', index...} |
--          {'no_epoch'}
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local state = state_of(KEYS[3], KEYS[4], ARGV[2], ARGV[1], clock_ms(ARGV[3]), epoch)
if state == 'missing' then return {'missing'} end
if state == 'confirming' then return {'busy'} end
if state ~= 'held' then return {'gone', state} end
local held = split(redis.call('HGET', KEYS[3], 'seats'))
local release, releasing = held, {}
if #ARGV >= 7 then
  local in_hold, missing = {}, {}
  for _, s in ipairs(held) do in_hold[s] = true end
  release = {}
  for b = 7, #ARGV, 3 do
    local s = tonumber(ARGV[b])
    if in_hold[s] then release[#release + 1] = s; releasing[s] = true
    else missing[#missing + 1] = s end
  end
  if #missing > 0 then return {'not_in_hold', unpack(missing)} end
  if #release < #held and ARGV[5] == '1' then
    local function free(i)
      return i >= 0 and (releasing[i] or seat_status(KEYS[2], i) == AVAILABLE)
    end
    local orphans = {}
    for b = 7, #ARGV, 3 do
      if not free(tonumber(ARGV[b + 1])) and not free(tonumber(ARGV[b + 2])) then
        orphans[#orphans + 1] = tonumber(ARGV[b])
      end
    end
    if #orphans > 0 then return {'rule', 'orphan_seat', unpack(orphans)} end
  end
end
local changed, kept = {}, {}
for _, s in ipairs(release) do
  releasing[s] = true
  if seat_status(KEYS[2], s) == HELD then
    set_status(KEYS[2], s, AVAILABLE)
    changed[#changed + 1] = s
  end
end
for _, s in ipairs(held) do if not releasing[s] then kept[#kept + 1] = s end end
local owner = redis.call('HMGET', KEYS[3], 'buyer', 'address')
add_count(KEYS[5], owner[1], -#release)
add_count(KEYS[7], owner[2], -#release)
if #kept == 0 then
  redis.call('HSET', KEYS[3], 'state', 'released')
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  redis.call('ZREM', KEYS[4], ARGV[2])
else
  redis.call('HSET', KEYS[3], 'seats', table.concat(kept, ','))
end
local id = ''
if #changed > 0 then id = append_log(KEYS[6], ARGV[4], 'release', AVAILABLE, changed) end
return {'ok', #kept, id}
"""

EXPIRE = """
-- End one hold: because it is due (sweeper), or forced after a failed or abandoned sale.
-- KEYS: 1 epoch, 2 status, 3 hold:{token}, 4 expiry, 5 buyers, 6 log, 7 addresses
-- ARGV: 1 hold token, 2 clock, 3 stream maxlen, 4 tombstone ttl ms, 5 force (0|1),
--       6 log kind (expire | release)
-- Returns: {'ended', log id or ''} | {'not_due'} | {'confirming', fencing} |
--          {'stale', state} | {'no_epoch'}
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local force = ARGV[5] == '1'
local due = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not force and (not due or tonumber(due) > clock_ms(ARGV[2])) then return {'not_due'} end
local h = redis.call('HMGET', KEYS[3], 'buyer', 'state', 'seats', 'fencing', 'address', 'epoch')
if not h[1] or h[6] ~= epoch then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return {'stale', 'missing'}
end
if h[2] == 'confirming' and not force then return {'confirming', h[4]} end
if h[2] ~= 'held' and h[2] ~= 'confirming' then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return {'stale', h[2]}
end
local seats, changed = split(h[3]), {}
for _, s in ipairs(seats) do
  local st = seat_status(KEYS[2], s)
  if st == HELD or st == CONFIRMING then
    set_status(KEYS[2], s, AVAILABLE)
    changed[#changed + 1] = s
  end
end
add_count(KEYS[5], h[1], -#seats)
add_count(KEYS[7], h[5], -#seats)
redis.call('HSET', KEYS[3], 'state', ARGV[6] == 'expire' and 'expired' or 'released')
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[1])
local id = ''
if #changed > 0 then id = append_log(KEYS[6], ARGV[3], ARGV[6], AVAILABLE, changed) end
return {'ended', id}
"""

MARK_CONFIRMING = """
-- Freeze a hold for its sale: it can no longer expire, extend or release until resolved.
-- KEYS: 1 epoch, 2 status, 3 hold:{token}, 4 expiry, 5 log
-- ARGV: 1 buyer id ('' = any), 2 hold token, 3 clock, 4 grace_ms (resolve deadline),
--       5 idempotency key, 6 stream maxlen
-- Returns: {'ok' | 'in_progress', buyer, fencing, seats csv} | {'missing'} | {'gone', state} |
--          {'busy'} (confirming under another key) | {'no_epoch'}. 'in_progress' means an
--          earlier attempt with the same key froze it and did not finish (callers serialise
--          per key).
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local now = clock_ms(ARGV[3])
local state = state_of(KEYS[3], KEYS[4], ARGV[2], ARGV[1], now, epoch)
if state == 'missing' then return {'missing'} end
local h = redis.call('HMGET', KEYS[3], 'buyer', 'fencing', 'seats', 'confirm_key')
if state == 'confirming' then
  if h[4] == ARGV[5] then return {'in_progress', h[1], h[2], h[3]} end
  return {'busy'}
end
if state ~= 'held' then return {'gone', state} end
redis.call('HSET', KEYS[3], 'state', 'confirming', 'confirm_key', ARGV[5])
redis.call('ZADD', KEYS[4], int(now + tonumber(ARGV[4])), ARGV[2])
local changed = {}
for _, s in ipairs(split(h[3])) do
  if seat_status(KEYS[2], s) == HELD then
    set_status(KEYS[2], s, CONFIRMING)
    changed[#changed + 1] = s
  end
end
if #changed > 0 then append_log(KEYS[5], ARGV[6], 'confirming', CONFIRMING, changed) end
return {'ok', h[1], h[2], h[3]}
"""

MARK_SOLD = """
-- After the sale committed in PostgreSQL: the hold's seats become sold.
-- KEYS: 1 epoch, 2 status, 3 hold:{token}, 4 expiry, 5 log, 6 addresses
-- ARGV: 1 hold token, 2 fencing, 3 stream maxlen, 4 tombstone ttl ms
-- Returns: {'ok', log id} | {'stale', state} | {'no_epoch'}
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'no_epoch'} end
local h = redis.call('HMGET', KEYS[3], 'state', 'fencing', 'seats', 'address', 'epoch')
if h[1] ~= 'confirming' or h[2] ~= ARGV[2] or h[5] ~= epoch then
  return {'stale', h[1] or 'missing'}
end
local seats = split(h[3])
for _, s in ipairs(seats) do set_status(KEYS[2], s, SOLD) end
add_count(KEYS[6], h[4], -#seats)
redis.call('HSET', KEYS[3], 'state', 'sold')
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[1])
return {'ok', append_log(KEYS[5], ARGV[3], 'sold', SOLD, seats)}
"""
