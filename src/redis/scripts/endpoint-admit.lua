--[[
  Admits deliveries to webhook endpoints or holds them in their endpoint's backlog (delivery engine, see
  docs/delivery-engine.md), in order: one call for a whole fan-out job. A delivery is held while the endpoint is
  paused, its circuit is open, its backlog is not empty or being drained (log order), it is ordered, or its rate limit
  has no token now. Idempotent per member.

  Input:
    KEYS[1] … KEYS[6]  the first endpoint's six keys; endpoint e's are KEYS[6e-5] … KEYS[6e], in this order:
      +1  the endpoint's health hash (fields `paused`, `open`)
      +2  the backlog sorted set (member `<eventId>|<deliveryId>`, score = event time ms)
      +3  the backlog data hash (member → delivery JSON; member..'#s' → its sequence number)
      +4  the drain flag (set while a drain job is scheduled or running)
      +5  the rate limit's GCRA state (theoretical arrival time, ms)
      +6  the ordering sequence hash (ordering key value → last sequence number)

    ARGV[1]  drain flag TTL, ms (the flag is '1' while a drain job is due or running, 'w' while it is parked)
    ARGV[2]  n, the number of events
    ARGV[3] … ARGV[2+n]  each event's JSON (sent once, however many deliveries it has)
    then eight values per delivery:
      endpoint number e (1-based)
      member
      score
      the delivery's metadata as JSON (stored as `<metadata>\n<event JSON>`), or '' when the caller left it out
      its event's number (1-based; 0 with no metadata)
      1 when the endpoint is ordered (always held: the drain sends one key's deliveries one at a time)
      rate limit per second (0 = none)
      the ordering key value ('' when not ordered)

  Output: three values per delivery: held (0 go now, 1 held, 2 would be held but its metadata was left out: nothing
  changed, call again with it), start a drain job (0/1), sequence number (0 none). Callers leave the metadata out when
  a delivery will most likely go now (most do): it is then sent only for the few that are held.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local drainTtl = tonumber(ARGV[1])

local events = tonumber(ARGV[2])

local function admit(k, member, score, json, ordered, rate, orderingKey)
  local health, backlog, data, drain, rateKey, sequence = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6]
  local hold = ordered
    or redis.call('HGET', health, 'paused') == '1'
    or redis.call('HEXISTS', health, 'open') == 1
    or redis.call('EXISTS', drain) == 1
    or redis.call('ZCARD', backlog) > 0
  if not hold and rate > 0 then
    local interval = 1000 / rate
    local tat = tonumber(redis.call('GET', rateKey) or '0')
    if tat <= now then
      redis.call('SET', rateKey, tostring(now + interval), 'PX', math.ceil(interval) + 1000)
      return 0, 0, 0
    end
    hold = true
  end
  if not hold then return 0, 0, 0 end
  local stored = redis.call('HEXISTS', data, member) == 1
  if not json and not stored then return 2, 0, 0 end
  local seq = 0
  if not stored then
    redis.call('ZADD', backlog, score, member)
    redis.call('HSET', data, member, json)
    if ordered then
      seq = redis.call('HINCRBY', sequence, orderingKey, 1)
      redis.call('HSET', data, member .. '#s', seq)
    end
  end
  if redis.call('HGET', health, 'paused') == '1' then return 1, 0, seq end
  if redis.call('GET', drain) == 'w' then
    -- The drain is parked (its keys wait for retries): this delivery may be of another key, so drain now.
    redis.call('SET', drain, '1', 'PX', drainTtl)
    return 1, 1, seq
  end
  local started = redis.call('SET', drain, '1', 'NX', 'PX', drainTtl)
  return 1, started and 1 or 0, seq
end

local out = {}
for i = 3 + events, #ARGV, 8 do
  local event = tonumber(ARGV[i + 4])
  local held, start, seq = admit(
    (tonumber(ARGV[i]) - 1) * 6,
    ARGV[i + 1],
    tonumber(ARGV[i + 2]),
    event > 0 and (ARGV[i + 3] .. '\n' .. ARGV[2 + event]) or nil,
    ARGV[i + 5] == '1',
    tonumber(ARGV[i + 6]),
    ARGV[i + 7]
  )
  out[#out + 1] = held
  out[#out + 1] = start
  out[#out + 1] = seq
end
return out
