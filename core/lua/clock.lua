-- Shared head of the scripts that read the time: milliseconds from the optional clock
-- argument (tests pass one), else from Redis's own clock, which every web process shares.
local function clock_ms(arg)
  if arg and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
