-- Removes from the head of a team's notify outbox (KEYS[1]) the entries a notifier processed
-- (ARGV, oldest first, as it read them), those still there: a run that overflowed the outbox
-- meanwhile may have trimmed some of them already, and the newer entries behind them must stay.
local removed = 0
for i = 1, #ARGV do
  if redis.call("LINDEX", KEYS[1], 0) == ARGV[i] then
    redis.call("LPOP", KEYS[1])
    removed = removed + 1
  end
end
return removed
