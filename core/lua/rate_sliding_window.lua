-- After clock.lua and key_usage.lua: a sliding-window rate limit. KEYS[1] the log (zset of
-- request times), KEYS[2] its sequence; ARGV[1] limit, ARGV[2] window in ms, ARGV[3] the clock.
-- Returns 0 if the request is allowed (and logs it), else the ms until one is.
local now = clock_ms(ARGV[3])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  local n = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, n)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now
