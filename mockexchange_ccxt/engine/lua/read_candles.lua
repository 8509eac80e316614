-- read_candles.lua: the records of a run of periods of one candle level (read only).
-- KEYS[1] the level's candle hash
-- ARGV[1] first period  ARGV[2] last period (inclusive; the caller bounds the run by the retention window)
-- reply: flat list period, record, period, record, ... of the periods that have a record, oldest first
-- One call instead of an HMGET naming every period: the request stays small however long the run.
local found = {}
for period = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local field = string.format('%d', period)
  local record = redis.call('HGET', KEYS[1], field)
  if record then
    found[#found + 1] = field
    found[#found + 1] = record
  end
end
return found
