--[[
  One atomic quota step for both windows of an organization: refuse the whole request if it would pass a limit (the
  month is checked first, its refusal lasts longer), else count it; a threshold flag set with NX reports each crossing
  once per period.

  Input:
    KEYS[1]  counter, minute window
    KEYS[2]  counter, month window
    KEYS[3]  warning flag, minute window
    KEYS[4]  exceeded flag, minute window
    KEYS[5]  warning flag, month window
    KEYS[6]  exceeded flag, month window

    ARGV[1]  number of events requested
    ARGV[2]  limit per minute (0 = none)
    ARGV[3]  limit per month (0 = none)
    ARGV[4]  expire-at of the minute keys (unix seconds)
    ARGV[5]  expire-at of the month keys (unix seconds)

  Output: { refused window (0 none, 1 minute, 2 month), used minute, used month, crossed flags ('w1', 'x2', …)… }
]]
local count = tonumber(ARGV[1])
local limit = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
local expireAt = { ARGV[4], ARGV[5] }
local used = { 0, 0 }
for i = 1, 2 do
  if limit[i] > 0 then used[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
end
local crossed = {}
local function flag(i, kind)
  local key = KEYS[i * 2 + (kind == 'w' and 1 or 2)]
  if redis.call('SET', key, '1', 'NX', 'EXAT', expireAt[i]) then crossed[#crossed + 1] = kind .. i end
end
for _, i in ipairs({ 2, 1 }) do
  if limit[i] > 0 and used[i] + count > limit[i] then
    flag(i, 'x')
    return { i, used[1], used[2], unpack(crossed) }
  end
end
for i = 1, 2 do
  if limit[i] > 0 then
    used[i] = redis.call('INCRBY', KEYS[i], count)
    redis.call('EXPIREAT', KEYS[i], expireAt[i])
    if used[i] * 100 >= limit[i] * 80 then flag(i, 'w') end
    if used[i] >= limit[i] then flag(i, 'x') end
  end
end
return { 0, used[1], used[2], unpack(crossed) }
