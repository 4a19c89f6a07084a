-- After clock.lua, before rate_sliding_window.lua (one script, one round trip per request):
-- counts one use of an API key. KEYS[3] the key's usage hash; ARGV[3] the clock, ARGV[4] the
-- bucket length in ms, ARGV[5] the buckets kept, ARGV[6] the hash's lifetime in ms.
-- Fields: "last" (ms of the last use) and "b<n>" (uses in bucket n = floor(ms / bucket length)).
local used_at = clock_ms(ARGV[3])
local bucket = math.floor(used_at / tonumber(ARGV[4]))
redis.call('HSET', KEYS[3], 'last', used_at)
if redis.call('HINCRBY', KEYS[3], 'b' .. bucket, 1) == 1 then
  -- the first use in a new bucket drops the buckets past the window: the hash stays bounded
  -- (at most ARGV[5] + 1 fields) without work on every request
  local oldest = bucket - tonumber(ARGV[5]) + 1
  for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
    if string.sub(field, 1, 1) == 'b' and tonumber(string.sub(field, 2)) < oldest then
      redis.call('HDEL', KEYS[3], field)
    end
  end
end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
