-- read_candles.lua: runs of periods of the candle levels, with the bookkeeping that tells how to read them,
-- in one atomic read (an hour's record lacks the open minute, which the reader folds in: both must be seen
-- at the same moment). Read only.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h
-- ARGV[1] days kept, then triples: level ('1m' or '1h'), first period, stop (exclusive); at most 5000 periods
-- reply: {1 if the feed hash exists else 0, the newest minute, the newest hour, the open minute, its record,
-- then per triple: the first period read (the run is cut to the retention window) and the records of the
-- periods from it, in order, nil where a period has none}; nil where there is none
local days = tonumber(ARGV[1])
local got = call('HMGET', KEYS[2], 'last', 'open')
local last_hour = tonumber(call('HGET', KEYS[3], 'last') or '')
local last_minute, open = tonumber(got[1] or ''), tonumber(got[2] or '')
if open ~= nil and (last_hour == nil or math.floor(open / MINUTES_PER_HOUR) > last_hour) then
  last_hour = math.floor(open / MINUTES_PER_HOUR) -- an hour whose only price so far is in the open minute
end
-- (false, not nil: a Lua table ends at its first nil)
local reply = {call('EXISTS', KEYS[1]), last_minute or false, last_hour or false, open or false, false}
if open ~= nil then
  reply[5] = call('HGET', KEYS[2], got[2]) or false
end
for i = 2, #ARGV, 3 do
  local key, last, kept = KEYS[2], last_minute, days * 1440
  if ARGV[i] == '1h' then
    key, last, kept = KEYS[3], last_hour, days * 24
  end
  local first, stop = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if last ~= nil then
    first, stop = math.max(first, last - kept + 1), math.min(stop, last + 1)
  end
  local fields = {}
  for period = first, stop - 1 do
    fields[#fields + 1] = period
  end
  reply[#reply + 1] = first
  reply[#reply + 1] = (last ~= nil and #fields > 0) and call('HMGET', key, unpack(fields)) or {}
end
return reply
