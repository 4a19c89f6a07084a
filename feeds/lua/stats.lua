-- After prune.lua: the team's tick, points held and servers tracked.
local tick = redis.call('HGET', meta, 'tick') or '0'
local points = redis.call('HGET', meta, 'points') or '0'
return {tonumber(tick), tonumber(points), redis.call('ZCARD', seen)}
