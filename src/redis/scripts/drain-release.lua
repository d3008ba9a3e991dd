--[[
  Ends a drain job: clears the drain flag when the backlog is empty or the endpoint is paused (checked atomically, so
  a delivery held or a resume in between always finds a drain job or starts one).

  Input:
    KEYS[1]  the backlog sorted set
    KEYS[2]  the drain flag
    KEYS[3]  the endpoint's health hash

    ARGV[1]  drain flag TTL, ms (refreshed when the drain must go on)

  Output: 1 when released (the drain job ends), 0 when there is more to drain
]]
if redis.call('ZCARD', KEYS[1]) == 0 or redis.call('HGET', KEYS[3], 'paused') == '1' then
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[1]))
return 0
