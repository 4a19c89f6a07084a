-- After window_prune.lua: forget the server ARGV[4] now; returns the points it held, or -1 if the
-- team has no such server.
if not redis.call('ZSCORE', seen, ARGV[4]) then return -1 end
return forget(ARGV[4])
