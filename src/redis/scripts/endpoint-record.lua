--[[
  Records one attempt's outcome in a webhook endpoint's health hash and opens the circuit after `failureThreshold`
  consecutive failures (times are the Redis server's, ms).

  Input:
    KEYS[1]  the endpoint's health hash

    ARGV[1]  1 when the attempt succeeded, 0 when it failed
    ARGV[2]  1 when the failure dead-lettered the delivery
    ARGV[3]  the circuit breaker's failure threshold (0 = breaker off)
    ARGV[4]  the probe interval, ms

  Output: { consecutive failures, circuit open (0/1), first failure since the last success (ms, 0 none),
            deliveries dead-lettered since the last success, now (ms) }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'cf', 0, 'ok', now)
  redis.call('HDEL', KEYS[1], 'since', 'dead', 'open', 'probe')
  return { 0, 0, 0, 0, now }
end
local cf = redis.call('HINCRBY', KEYS[1], 'cf', 1)
redis.call('HSET', KEYS[1], 'fail', now)
redis.call('HSETNX', KEYS[1], 'since', now)
local dead = tonumber(redis.call('HGET', KEYS[1], 'dead') or '0')
if ARGV[2] == '1' then dead = redis.call('HINCRBY', KEYS[1], 'dead', 1) end
local threshold = tonumber(ARGV[3])
local open = redis.call('HEXISTS', KEYS[1], 'open')
if open == 0 and threshold > 0 and cf >= threshold then
  redis.call('HSET', KEYS[1], 'open', now, 'probe', now + tonumber(ARGV[4]))
  open = 1
end
return { cf, open, tonumber(redis.call('HGET', KEYS[1], 'since')), dead, now }
