-- The archiver stored these entries in the database: delete them from the team's history
-- stream. KEYS[1] the stream, KEYS[2] its state hash, KEYS[3] the forgotten-server marks;
-- ARGV: pairs of (entry id, points in it), oldest first. An entry already gone (trimmed by the
-- stream's bound, or acknowledged by an earlier run) is not counted twice. Marks at or before
-- the last id go too: no entry left holds points accepted before those forgets.
-- Returns the points removed.
local function before_or_at(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as <= bs)
end

local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then removed = removed + tonumber(ARGV[i + 1]) end
end
if removed > 0 then redis.call('HINCRBY', KEYS[2], 'pending', -removed) end
local last = ARGV[#ARGV - 1]
local marks = redis.call('HGETALL', KEYS[3])
for i = 1, #marks, 2 do
  if before_or_at(marks[i + 1], last) then redis.call('HDEL', KEYS[3], marks[i]) end
end
return removed
