--[[
  Appends a batch of events to the event log; with an idempotency key, an event already published is not appended
  again and its first append is returned instead. Check, XADD and record are atomic per call, so a retried publish is
  never appended twice nor lost half-way. No MAXLEN: trimming belongs to LogTrimmer.

  Input:
    KEYS[1]       event log stream
    KEYS[2..n]    idempotency records of the events that carry a key (referenced by index from ARGV, may repeat)

    ARGV[1]       idempotency record TTL (seconds)
    then 6 arguments per event, ARGV[b .. b+5] with b = 2 + 6 * (event index, from 0):
    ARGV[b]       index into KEYS of its idempotency record, '0' when it has none
    ARGV[b+1]     organization id      (stream field o)
    ARGV[b+2]     event type           (stream field t)
    ARGV[b+3]     timestamp, ISO 8601  (stream field ts)
    ARGV[b+4]     data, JSON           (stream field d)
    ARGV[b+5]     W3C traceparent, '' when none (stream field tp)

  Output: one string per event, in order:
    '0' .. stream id                                   appended
    '1' .. stream id \n org \n type \n ts \n data       duplicate: the first append of that key
]]
local stream = KEYS[1]
local ttl = tonumber(ARGV[1])
local out = {}
local n = (#ARGV - 1) / 6
for i = 0, n - 1 do
  local b = 2 + i * 6
  local idemIndex = tonumber(ARGV[b])
  local org, typ, ts, data, tp = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local idem = false
  if idemIndex > 0 then idem = KEYS[idemIndex] end
  local prev = false
  if idem then prev = redis.call('GET', idem) end
  if prev then
    out[#out + 1] = '1' .. prev
  else
    local sid
    if tp == '' then
      sid = redis.call('XADD', stream, '*', 'o', org, 't', typ, 'ts', ts, 'd', data)
    else
      sid = redis.call('XADD', stream, '*', 'o', org, 't', typ, 'ts', ts, 'd', data, 'tp', tp)
    end
    if idem then redis.call('SET', idem, sid .. '\n' .. org .. '\n' .. typ .. '\n' .. ts .. '\n' .. data, 'EX', ttl) end
    out[#out + 1] = '0' .. sid
  end
end
return out
