-- A shard task that failed gives its shard back at once (instead of when its lease runs out), so
-- the run's coordinator redoes it. KEYS[1] the run's claims; ARGV[1] the shard, ARGV[2] the
-- holder's task id. Returns 1 if released, 0 if another task holds it now.
local claim = redis.call('HGET', KEYS[1], ARGV[1])
if claim and string.find(claim, '|' .. ARGV[2] .. '|', 1, true) then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
