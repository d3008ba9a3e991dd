--[[
  Asks whether a drain job may send to a webhook endpoint now: not while paused; while the circuit is open only one
  probe per probe interval (claimed here, atomically, so two workers never probe at once).

  Input:
    KEYS[1]  the endpoint's health hash

    ARGV[1]  the probe interval, ms

  Output: { status (0 paused, 1 closed: send, 2 probe claimed: send one, 3 open: wait), ms to wait (status 3) }
]]
if redis.call('HGET', KEYS[1], 'paused') == '1' then return { 0, 0 } end
if redis.call('HEXISTS', KEYS[1], 'open') == 0 then return { 1, 0 } end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe') or '0')
if probe > now then return { 3, probe - now } end
redis.call('HSET', KEYS[1], 'probe', now + tonumber(ARGV[1]))
return { 2, 0 }
