--[[
  Admits one delivery to a webhook endpoint or holds it in the endpoint's backlog (delivery engine, see
  docs/delivery-engine.md). A delivery is held while the endpoint is paused, its circuit is open, its backlog is not
  empty or being drained (log order), it is ordered, or its rate limit has no token now. Idempotent per member.

  Input:
    KEYS[1]  the endpoint's health hash (fields `paused`, `open`)
    KEYS[2]  the backlog sorted set (member `<eventId>|<deliveryId>`, score = event time ms)
    KEYS[3]  the backlog data hash (member → delivery JSON; member..'#s' → its sequence number)
    KEYS[4]  the drain flag (set while a drain job is scheduled or running)
    KEYS[5]  the rate limit's GCRA state (theoretical arrival time, ms)
    KEYS[6]  the ordering sequence hash (ordering key value → last sequence number)

    ARGV[1]  member
    ARGV[2]  score
    ARGV[3]  the delivery as JSON
    ARGV[4]  1 when the endpoint is ordered (always held: the drain sends one key's deliveries one at a time)
    ARGV[5]  rate limit per second (0 = none)
    ARGV[6]  drain flag TTL, ms (the flag is '1' while a drain job is due or running, 'w' while it is parked)
    ARGV[7]  the ordering key value ('' when not ordered)

  Output: { held (0 go now, 1 held), start a drain job (0/1), sequence number (0 none) }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = ARGV[4] == '1'
  or redis.call('HGET', KEYS[1], 'paused') == '1'
  or redis.call('HEXISTS', KEYS[1], 'open') == 1
  or redis.call('EXISTS', KEYS[4]) == 1
  or redis.call('ZCARD', KEYS[2]) > 0
local rate = tonumber(ARGV[5])
if not hold and rate > 0 then
  local interval = 1000 / rate
  local tat = tonumber(redis.call('GET', KEYS[5]) or '0')
  if tat <= now then
    redis.call('SET', KEYS[5], tostring(now + interval), 'PX', math.ceil(interval) + 1000)
    return { 0, 0, 0 }
  end
  hold = true
end
if not hold then return { 0, 0, 0 } end
local seq = 0
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  if ARGV[4] == '1' then
    seq = redis.call('HINCRBY', KEYS[6], ARGV[7], 1)
    redis.call('HSET', KEYS[3], ARGV[1] .. '#s', seq)
  end
end
if redis.call('HGET', KEYS[1], 'paused') == '1' then return { 1, 0, seq } end
if redis.call('GET', KEYS[4]) == 'w' then
  -- The drain is parked (its keys wait for retries): this delivery may be of another key, so drain now.
  redis.call('SET', KEYS[4], '1', 'PX', tonumber(ARGV[6]))
  return { 1, 1, seq }
end
local started = redis.call('SET', KEYS[4], '1', 'NX', 'PX', tonumber(ARGV[6]))
return { 1, started and 1 or 0, seq }
