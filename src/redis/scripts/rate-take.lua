--[[
  Takes one token of a webhook's rate limit (GCRA, burst 1: sends are spaced 1000/perSecond ms apart across every
  worker process), or says how long to wait for it.

  Input:
    KEYS[1]  the rate limit's GCRA state (theoretical arrival time, ms)

    ARGV[1]  rate limit per second

  Output: 0 when the token was taken, else the ms to wait before asking again
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = 1000 / tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then return math.max(1, math.ceil(tat - now)) end
redis.call('SET', KEYS[1], tostring(now + interval), 'PX', math.ceil(interval) + 1000)
return 0
