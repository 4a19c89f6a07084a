-- Store a team's prediction documents if they are not older than the stored ones.
-- KEYS[1] predictions, KEYS[2] alerts, KEYS[3] predictions:meta; ARGV[1] the predictions
-- document, ARGV[2] the alerts document, ARGV[3] tick, ARGV[4] generated_at, ARGV[5] model,
-- ARGV[6] the documents' lifetime in seconds (a team that stops feeding stops being served
-- its last forecasts, and its documents do not stay in Redis forever).
-- Counts every completed run; returns 1 if stored, 0 if a newer tick was already there.
redis.call('HINCRBY', KEYS[3], 'runs', 1)
redis.call('EXPIRE', KEYS[3], ARGV[6])
local stored = tonumber(redis.call('HGET', KEYS[3], 'tick') or '-1')
if tonumber(ARGV[3]) < stored then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[6])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[6])
redis.call('HSET', KEYS[3], 'tick', ARGV[3], 'generated_at', ARGV[4], 'model', ARGV[5])
return 1
