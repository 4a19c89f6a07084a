-- After prune.lua: a consistent snapshot of the team's windows in one round trip:
-- {tick, last batch arrival ms, server1, records1, server2, records2, ...} where records are the
-- server's packed records concatenated in slot order.
local out = {tonumber(redis.call('HGET', meta, 'tick') or '0'),
             tonumber(redis.call('HGET', meta, 'updated') or '0')}
for _, server in ipairs(redis.call('ZRANGE', seen, 0, -1)) do
  out[#out + 1] = server
  out[#out + 1] = table.concat(redis.call('LRANGE', window_prefix .. server, 0, -1))
end
return out
