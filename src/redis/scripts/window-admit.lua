--[[
  Fixed-window request counter: admits one request if the window's count is below the limit and counts it, else
  refuses without counting (a refused request never uses up the next one's room).

  Input:
    KEYS[1]  the window's counter

    ARGV[1]  limit (requests per window)
    ARGV[2]  when the counter expires, unix seconds (the window's end plus some slack)

  Output: { admitted (1 or 0), count after this call }
]]
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  return { 0, count }
end
count = redis.call('INCR', KEYS[1])
redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[2]))
return { 1, count }
