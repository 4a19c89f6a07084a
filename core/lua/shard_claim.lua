-- A task claims a shard of a sharded run (inference.sharding). KEYS[1] the run's plan, KEYS[2]
-- its claims (hash: shard -> "<lease end ms>|<holder task id>|<worker>"), KEYS[3] its done set;
-- ARGV[1] clock (see clock.lua), ARGV[2] the holder's task id, ARGV[3] its worker, ARGV[4] the
-- lease (ms), ARGV[5] the shard wanted, or '' for any (the highest free one: shard tasks are
-- queued lowest first, so a coordinator working from the top meets them last).
-- A shard is free if it is not done and unclaimed, claimed by this same task id (a task
-- redelivered after its worker died takes its shard back at once), or its lease ran out (its
-- holder died or froze). Returns the shard claimed, -1 if none is free, -2 if the run is gone
-- (finished, or expired: a late or redelivered shard task then has nothing to do).
local now = clock_ms(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return -2 end
local shards = tonumber(redis.call('HGET', KEYS[1], 'shards'))
local function free(i)
  if redis.call('SISMEMBER', KEYS[3], i) == 1 then return false end
  local claim = redis.call('HGET', KEYS[2], i)
  if not claim then return true end
  local bar = string.find(claim, '|', 1, true)
  local holder = string.sub(claim, bar + 1, string.find(claim, '|', bar + 1, true) - 1)
  return holder == ARGV[2] or tonumber(string.sub(claim, 1, bar - 1)) < now
end
local function claim(i)
  redis.call('HSET', KEYS[2], i, (now + tonumber(ARGV[4])) .. '|' .. ARGV[2] .. '|' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
  return i
end
if ARGV[5] ~= '' then
  local i = tonumber(ARGV[5])
  if i >= 0 and i < shards and free(i) then return claim(i) end
  return -1
end
for i = shards - 1, 0, -1 do
  if free(i) then return claim(i) end
end
return -1
