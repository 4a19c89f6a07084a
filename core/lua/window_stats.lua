-- After window_prune.lua: the team's tick, points held, servers tracked and last batch arrival (ms).
local tick = redis.call('HGET', meta, 'tick') or '0'
local points = redis.call('HGET', meta, 'points') or '0'
local updated = redis.call('HGET', meta, 'updated') or '0'
return {tonumber(tick), tonumber(points), redis.call('ZCARD', seen), tonumber(updated)}
