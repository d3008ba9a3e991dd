--[[
  Parks a drain job whose remaining held deliveries all wait (ordered keys held back by a retry): the drain flag
  becomes "waiting", so the next delivery held for this endpoint starts a drain at once. Only when the backlog is still
  the size the drain last saw (a delivery held in between means: do not park, look again).

  Input:
    KEYS[1]  the backlog sorted set
    KEYS[2]  the drain flag

    ARGV[1]  the backlog size the drain saw
    ARGV[2]  drain flag TTL, ms

  Output: 1 when parked, 0 when the backlog changed
]]
if redis.call('ZCARD', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], 'w', 'PX', tonumber(ARGV[2]))
return 1
