--[[
  Records attempt outcomes, in order, in webhook endpoints' health hashes and opens an endpoint's circuit after
  `failureThreshold` consecutive failures (times are the Redis server's, ms). One call for a whole fan-out job.

  Input:
    KEYS[1] … KEYS[n]  endpoint 1 … n's health hash (endpoint e's is KEYS[e])

    ARGV[1] … ARGV[5]  the first outcome; five values per outcome, in this order:
      endpoint number e (1-based)
      1 when the attempt succeeded, 0 when it failed
      1 when the failure dead-lettered the delivery
      the circuit breaker's failure threshold (0 = breaker off)
      the probe interval, ms

  Output: five values per outcome: consecutive failures, circuit open (0/1), first failure since the last success
          (ms, 0 none), deliveries dead-lettered since the last success, now (ms)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function record(health, success, dead, threshold, probeInterval)
  if success then
    redis.call('HSET', health, 'cf', 0, 'ok', now)
    redis.call('HDEL', health, 'since', 'dead', 'open', 'probe')
    return 0, 0, 0, 0
  end
  local cf = redis.call('HINCRBY', health, 'cf', 1)
  redis.call('HSET', health, 'fail', now)
  redis.call('HSETNX', health, 'since', now)
  local deadCount = tonumber(redis.call('HGET', health, 'dead') or '0')
  if dead then deadCount = redis.call('HINCRBY', health, 'dead', 1) end
  local open = redis.call('HEXISTS', health, 'open')
  if open == 0 and threshold > 0 and cf >= threshold then
    redis.call('HSET', health, 'open', now, 'probe', now + probeInterval)
    open = 1
  end
  return cf, open, tonumber(redis.call('HGET', health, 'since')), deadCount
end

local out = {}
for i = 1, #ARGV, 5 do
  local cf, open, since, deadCount = record(
    KEYS[tonumber(ARGV[i])],
    ARGV[i + 1] == '1',
    ARGV[i + 2] == '1',
    tonumber(ARGV[i + 3]),
    tonumber(ARGV[i + 4])
  )
  out[#out + 1] = cf
  out[#out + 1] = open
  out[#out + 1] = since
  out[#out + 1] = deadCount
  out[#out + 1] = now
end
return out
