-- A server was forgotten: KEYS[1] the team's history stream, KEYS[2] its forgotten-server
-- marks; ARGV[1] the server. Marks the stream's newest entry, so that the archiver skips the
-- server's points in it and in every older entry (accepted before the forget). Returns the mark,
-- or false when the stream is empty (nothing of the server waits for the archiver).
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if not newest then return false end
redis.call('HSET', KEYS[2], ARGV[1], newest[1])
return newest[1]
