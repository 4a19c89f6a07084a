-- Shared head of the window scripts (after clock.lua). KEYS[1] meta, KEYS[2] seen, KEYS[3] counts,
-- ARGV[1] window key prefix, ARGV[2] server TTL in ms, ARGV[3] the clock (see clock.lua).
-- Defines forget() and `now` (ms), then forgets the servers that have sent nothing for the TTL
-- (wall-clock arrival time, not data time): at most PRUNE_CHUNK of them per call, so that no
-- script holds Redis for long when many expire at once (500,000 at once held it 2.3 s); the
-- rest go on the next calls (every batch, read and /status makes one).
local meta, seen, counts = KEYS[1], KEYS[2], KEYS[3]
local window_prefix, ttl_ms = ARGV[1], tonumber(ARGV[2])
local now = clock_ms(ARGV[3])

-- drops one server's window and its share of the team's totals; returns the points it held
local function forget(server)
  local held = tonumber(redis.call('HGET', counts, server) or '0')
  redis.call('HINCRBY', meta, 'points', -held)
  redis.call('HDEL', counts, server)
  redis.call('ZREM', seen, server)
  redis.call('DEL', window_prefix .. server)
  return held
end

local PRUNE_CHUNK = 1000
for _, server in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - ttl_ms, 'LIMIT', 0, PRUNE_CHUNK)) do
  forget(server)
end
