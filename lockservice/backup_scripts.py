"""The Lua scripts of backup and restore: read or write an event's live state in one step.

Both touch only keys of the event's hash tag, all declared in KEYS, so each
runs on one Redis Cluster shard as one atomic step. A hold's key is known
only from its token, so CAPTURE is given the keys of the holds the caller
already knows and answers `missing` with the tokens it was not given; the
caller asks again with those (a few rounds at most while holds are taken).
"""

from __future__ import annotations

from lockservice.luashared import PRELUDE

CAPTURE = """
-- Read an event's live state at one instant: epoch, fencing counter, Redis's clock and
-- every hold in the expiry set (the statuses follow from these and PostgreSQL).
-- KEYS: 1 epoch, 2 fencing, 3 expiry, 4.. hold:{token} of ARGV[2..] in order
-- ARGV: 1 clock, 2.. hold tokens
-- Returns: {'ok', epoch or '', now ms, fencing,
--           {token, due ms, field, value, field, value...} per hold in the expiry set}
--        | {'missing', token...}: tokens in the expiry set that were not passed in
local given = {}
for i = 2, #ARGV do given[ARGV[i]] = i + 2 end
local due = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
local missing = {'missing'}
for i = 1, #due, 2 do
  if not given[due[i]] then missing[#missing + 1] = due[i] end
end
if #missing > 1 then return missing end
local holds = {}
for i = 1, #due, 2 do
  local record = {due[i], due[i + 1]}
  for _, v in ipairs(redis.call('HGETALL', KEYS[given[due[i]]])) do record[#record + 1] = v end
  holds[#holds + 1] = record
end
return {'ok', redis.call('GET', KEYS[1]) or '', int(clock_ms(ARGV[1])),
  redis.call('GET', KEYS[2]) or '0', holds}
"""

RESTORE = """
-- Write an event's live state from a backup: statuses, open holds with their remaining
-- times (so they expire when they would have), per-buyer and per-address counts, the
-- fencing counter raised to the floor (never lowered), a 'reset' entry in the change log,
-- and the epoch last. Replacing voids the holds it had (they name an older epoch) and
-- lets their records expire like tombstones.
-- KEYS: 1 epoch, 2 status, 3 fencing, 4 expiry, 5 buyers, 6 addresses, 7 log,
--       8 .. 7+n hold:{token} of the n restored holds, then hold:{token} of holds to void
-- ARGV: 1 replace (0|1), 2 clock, 3 stream maxlen, 4 status bytes, 5 epoch,
--       6 lowest allowed fencing, 7 tombstone ttl ms, 8 n holds, 9 n buyer pairs,
--       10 n address pairs, then 12 values per hold: token, buyer, address, state,
--       seats csv, fencing, accessible (0|1), confirm key, age_ms, expires_in_ms,
--       max_expires_in_ms, due_in_ms; then buyer id, seats pairs; then address, seats pairs
-- Returns: {'ok', now ms} | {'exists'} (the event has live state and replace is 0)
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
local now = clock_ms(ARGV[2])
local epoch, n = ARGV[5], tonumber(ARGV[8])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
for k = 8 + n, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[7]) end
redis.call('SET', KEYS[2], ARGV[4])
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[6]) then
  redis.call('SET', KEYS[3], ARGV[6])
end
local a = 11
for h = 1, n do
  local key = KEYS[7 + h]
  redis.call('DEL', key)
  redis.call('HSET', key, 'buyer', ARGV[a + 1], 'address', ARGV[a + 2], 'epoch', epoch,
    'seats', ARGV[a + 4], 'fencing', ARGV[a + 5], 'created_ms', int(now - tonumber(ARGV[a + 8])),
    'expires_ms', int(now + tonumber(ARGV[a + 9])),
    'max_expires_ms', int(now + tonumber(ARGV[a + 10])), 'state', ARGV[a + 3],
    'accessible', ARGV[a + 6])
  if ARGV[a + 7] ~= '' then redis.call('HSET', key, 'confirm_key', ARGV[a + 7]) end
  redis.call('ZADD', KEYS[4], int(now + tonumber(ARGV[a + 11])), ARGV[a])
  a = a + 12
end
for p = 1, tonumber(ARGV[9]) do
  redis.call('HSET', KEYS[5], ARGV[a], ARGV[a + 1])
  a = a + 2
end
for p = 1, tonumber(ARGV[10]) do
  redis.call('HSET', KEYS[6], ARGV[a], ARGV[a + 1])
  a = a + 2
end
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[3], '*', 'kind', 'reset', 'status', '0',
  'seats', '')
redis.call('SET', KEYS[1], epoch)
return {'ok', now}
"""

CAPTURE_SCRIPT = PRELUDE + CAPTURE
RESTORE_SCRIPT = PRELUDE + RESTORE
