-- Forget the team's servers that have sent nothing for the server TTL (wall-clock arrival
-- time, Redis's own clock so every web process agrees). Shared head of the scripts below;
-- expects KEYS[1] meta, KEYS[2] seen, KEYS[3] counts, ARGV[1] window key prefix,
-- ARGV[2] TTL in ms. Leaves `now` (ms) for the rest of the script.
local meta, seen, counts = KEYS[1], KEYS[2], KEYS[3]
local window_prefix, ttl_ms = ARGV[1], tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', now - ttl_ms)
for _, server in ipairs(gone) do
  local held = tonumber(redis.call('HGET', counts, server) or '0')
  redis.call('HINCRBY', meta, 'points', -held)
  redis.call('HDEL', counts, server)
  redis.call('ZREM', seen, server)
  redis.call('DEL', window_prefix .. server)
end
