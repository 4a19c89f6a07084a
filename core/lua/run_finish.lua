-- A run task ends: KEYS[1] the run lock is released only by its holder ARGV[1].
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
