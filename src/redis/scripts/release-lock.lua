--[[
  Releases a lock only if it is still held by the caller's token (a lock that expired and was taken by another
  process is left alone).

  Input:
    KEYS[1]  the lock

    ARGV[1]  the caller's token

  Output: 1 when released, 0 otherwise
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
else
  return 0
end
