-- A shard's part is stored (inference.sharding). KEYS[1] the run's plan, KEYS[2] its claims,
-- KEYS[3] its parts (hash: "p:<shard>" the entries, "m:<shard>" the rest), KEYS[4] its done
-- set; ARGV[1] the shard, ARGV[2] its entries, ARGV[3] its meta.
-- The first part stored for a shard wins (a shard redone after its lease ran out computes the
-- same servers again). Returns the number of shards done, or -2 if the run is gone (its
-- document was published, or it expired): the part is then dropped.
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return -2 end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  redis.call('HSET', KEYS[3], 'p:' .. ARGV[1], ARGV[2], 'm:' .. ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[4], ttl)
end
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('SCARD', KEYS[4])
