-- After window_prune.lua: a consistent snapshot of the team's windows in one round trip:
-- {tick, last batch arrival ms, server1, arrival1 ms, records1, server2, ...} where records are
-- the server's packed records concatenated in slot order.
local out = {tonumber(redis.call('HGET', meta, 'tick') or '0'),
             tonumber(redis.call('HGET', meta, 'updated') or '0')}
local servers = redis.call('ZRANGE', seen, 0, -1, 'WITHSCORES')
for i = 1, #servers, 2 do
  out[#out + 1] = servers[i]
  out[#out + 1] = servers[i + 1]
  out[#out + 1] = table.concat(redis.call('LRANGE', window_prefix .. servers[i], 0, -1))
end
return out
