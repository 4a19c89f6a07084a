-- A running task renews its lease: KEYS[1] the run lock is extended to ARGV[2] seconds only
-- if its holder is still ARGV[1]. Returns 1 if renewed, 0 if the lock was lost (expired
-- during a Redis outage and perhaps taken by another run).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
