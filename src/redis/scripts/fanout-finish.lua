--[[
  Ends a run of a fan-out job: its organization's fair-share counter goes down by the job's deliveries once, however
  many runs of the job get here (a re-run after its worker died between this call and BullMQ's completion), and the
  job's done hash is kept only as long as the job could still be re-run.

  Input:
    KEYS[1]  the job's done hash (delivery id → 1; field '#counted' once the counter went down)
    KEYS[2]  the organization's fair-share counter (queued fan-out deliveries), same hash tag

    ARGV[1]  the job's deliveries
    ARGV[2]  how long the done hash is kept, ms

  Output: 1 when this call took the deliveries off the counter, 0 when an earlier run had
]]
local first = redis.call('HSETNX', KEYS[1], '#counted', '1')
if first == 1 then
  redis.call('DECRBY', KEYS[2], ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return first
