-- Append one validated batch to a team's rolling windows, atomically (one script = one step).
-- After window_prune.lua: KEYS[4] the team's new-servers zset, KEYS[5] its history stream,
-- KEYS[6] the stream's state hash, KEYS[7..] one window list per server; ARGV[4] record size in
-- bytes, ARGV[5] window length in slots, ARGV[6] the most servers the team may hold, ARGV[7] the
-- most servers it may add in an hour, ARGV[8] the history buffer in points per server held, then
-- one packed blob per server in KEYS order. A blob is that server's new records sorted by slot,
-- one per slot; each record starts with its slot as a little-endian uint32.
-- The team's limits are checked first, so a batch that would break one stores nothing and
-- returns {'limit', name, held, adding, retry_ms}. Otherwise it returns {tick, points, servers}.
-- A window is a list of records sorted by slot. New records are merged into its tail: in the
-- usual case (a newer slot) that pops nothing and pushes one record; a re-sent slot replaces
-- the stored one; an out-of-order batch pops back to where it belongs and pushes the merge.
-- Cost: a few commands per server of the batch (at most ARGUS_MAX_RECORDS servers).
local record_size, window_slots = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_servers, max_new_per_hour = tonumber(ARGV[6]), tonumber(ARGV[7])
local buffer_slots = tonumber(ARGV[8])
local new_servers_key, history_stream, history_state = KEYS[4], KEYS[5], KEYS[6]
local HOUR_MS, FIRST_WINDOW, BLOB_OFFSET = 3600000, 7, 2  -- the blob of KEYS[k] is ARGV[k + 2]
-- entries the history bound may trim per batch: a bound that shrank (servers forgotten) is
-- reached over several batches rather than in one long script
local MAX_TRIM = 1000

local function slot_of(record)
  return (struct.unpack('<I4', record))
end

local function push_all(key, records)
  for i = 1, #records, 1000 do  -- unpack() in bounded chunks: Lua's C stack is limited
    redis.call('RPUSH', key, unpack(records, i, math.min(i + 999, #records)))
  end
end

-- the limits: servers held at once, servers first seen in the last hour
local adding = {}
for k = FIRST_WINDOW, #KEYS do
  local server = string.sub(KEYS[k], #window_prefix + 1)
  if not redis.call('ZSCORE', seen, server) then adding[#adding + 1] = server end
end
if #adding > 0 then
  local held = redis.call('ZCARD', seen)
  if held + #adding > max_servers then
    return {'limit', 'ARGUS_MAX_SERVERS_PER_TEAM', held, #adding, 0}
  end
  redis.call('ZREMRANGEBYSCORE', new_servers_key, '-inf', now - HOUR_MS)
  local recent = redis.call('ZCARD', new_servers_key)
  if recent + #adding > max_new_per_hour then
    local oldest = redis.call('ZRANGE', new_servers_key, 0, 0, 'WITHSCORES')[2]
    local retry_ms = oldest and (tonumber(oldest) + HOUR_MS - now) or HOUR_MS
    return {'limit', 'ARGUS_MAX_NEW_SERVERS_PER_HOUR', recent, #adding, retry_ms}
  end
  for i = 1, #adding, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #adding) do
      args[#args + 1] = now
      args[#args + 1] = adding[j]
    end
    redis.call('ZADD', new_servers_key, unpack(args))
  end
  redis.call('PEXPIRE', new_servers_key, HOUR_MS)
end

local count_args, seen_args, points_delta = {}, {}, 0
for k = FIRST_WINDOW, #KEYS do
  local key, blob = KEYS[k], ARGV[k + BLOB_OFFSET]
  local incoming = {}
  for pos = 1, #blob, record_size do
    incoming[#incoming + 1] = string.sub(blob, pos, pos + record_size - 1)
  end
  local before = redis.call('LLEN', key)
  local last = redis.call('LINDEX', key, -1)
  local newest = slot_of(incoming[#incoming])
  if last and slot_of(last) > newest then newest = slot_of(last) end
  local cutoff = newest - window_slots + 1

  -- pop the stored tail that overlaps the new records, then merge (new wins on equal slots)
  local tail = {}
  local first_new = slot_of(incoming[1])
  while last and slot_of(last) >= first_new do
    table.insert(tail, 1, redis.call('RPOP', key))
    last = redis.call('LINDEX', key, -1)
  end
  local merged, i, j = {}, 1, 1
  while i <= #tail or j <= #incoming do
    local a, b = tail[i], incoming[j]
    local record
    if b == nil or (a ~= nil and slot_of(a) < slot_of(b)) then
      record, i = a, i + 1
    else
      if a ~= nil and slot_of(a) == slot_of(b) then i = i + 1 end
      record, j = b, j + 1
    end
    if slot_of(record) >= cutoff then merged[#merged + 1] = record end
  end
  push_all(key, merged)

  -- trim the head to the window
  local head = redis.call('LINDEX', key, 0)
  while head and slot_of(head) < cutoff do
    redis.call('LPOP', key)
    head = redis.call('LINDEX', key, 0)
  end
  redis.call('PEXPIRE', key, ttl_ms)

  local after = redis.call('LLEN', key)
  points_delta = points_delta + after - before
  local server = string.sub(key, #window_prefix + 1)
  count_args[#count_args + 1] = server
  count_args[#count_args + 1] = after
  seen_args[#seen_args + 1] = now
  seen_args[#seen_args + 1] = server
end

for i = 1, #count_args, 1000 do
  redis.call('HSET', counts, unpack(count_args, i, math.min(i + 999, #count_args)))
  redis.call('ZADD', seen, unpack(seen_args, i, math.min(i + 999, #seen_args)))
end
-- History: the whole batch, backfills older than the window included, as one stream entry
-- {n = points, d = per server: name length (uint16), name, blob length (uint32), blob}. The
-- archiver (history/) drains the stream into the database and deletes what it stored. Past
-- its bound (buffer_slots points per server held: the archiver stopped for long, or a replay
-- far larger than the windows) the oldest entries go, counted in history:state `dropped`; the
-- entry just added always stays.
local pieces, captured = {}, 0
for k = FIRST_WINDOW, #KEYS do
  local server, blob = string.sub(KEYS[k], #window_prefix + 1), ARGV[k + BLOB_OFFSET]
  pieces[#pieces + 1] = struct.pack('<I2', #server) .. server .. struct.pack('<I4', #blob)
  pieces[#pieces + 1] = blob
  captured = captured + #blob / record_size
end
local entry = redis.call('XADD', history_stream, '*', 'n', captured, 'd', table.concat(pieces))
local pending = redis.call('HINCRBY', history_state, 'pending', captured)
local bound, trimmed = redis.call('ZCARD', seen) * buffer_slots, 0
while pending > bound and trimmed < MAX_TRIM do
  local oldest = redis.call('XRANGE', history_stream, '-', '+', 'COUNT', 1)[1]
  if oldest[1] == entry then break end
  local n = tonumber(oldest[2][2])
  redis.call('XDEL', history_stream, oldest[1])
  pending = redis.call('HINCRBY', history_state, 'pending', -n)
  redis.call('HINCRBY', history_state, 'dropped', n)
  trimmed = trimmed + 1
end

local points = redis.call('HINCRBY', meta, 'points', points_delta)
local tick = redis.call('HINCRBY', meta, 'tick', 1)
redis.call('HSET', meta, 'updated', now)
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ttl_ms) end
return {tick, points, redis.call('ZCARD', seen)}
