-- A run task starts. KEYS[1] the team's queued flag, KEYS[2] its run lock; ARGV[1] the task
-- id, ARGV[2] the lock's lifetime (s), ARGV[3] the queued flag's lifetime (s).
-- The task clears `queued` (so a batch arriving now queues one more run) and takes the lock;
-- a redelivered task (same id) takes its own lock back. If another task holds the lock, this
-- one is marked as the queued run (it will retry) and 0 is returned.
redis.call('DEL', KEYS[1])
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then
  redis.call('SET', KEYS[1], '1', 'EX', ARGV[3])
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
