-- import_candles.lua: store whole candles (an import or a backfill), replacing those of the same periods; an
-- import of minutes rebuilds the hours it touches from their minutes.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h
-- ARGV[1] level the candles are stored at ('1m' or '1h')  ARGV[2] days kept
-- ARGV[3] price for the feed ('' for none)  ARGV[4] its timestamp (ms): written only when the feed has no price
-- or an older one, so an imported symbol is a market, and a re-import or an older file changes no price
-- ARGV[5..] pairs: period number, candle record (candle_lib.lua), oldest first
-- reply: {candles stored (those inside the retention window), 1 if the feed price was written else 0}
local feed, minutes, hours = KEYS[1], KEYS[2], KEYS[3]
local T = candle_tools()
local days = tonumber(ARGV[2])
local minutes_kept, hours_kept = days * 1440, days * 24
local key, kept = minutes, minutes_kept
if ARGV[1] == '1h' then
  key, kept = hours, hours_kept
end
local had_open = call('HGET', minutes, 'open')
local open = tonumber(had_open or '')
local last = tonumber(call('HGET', key, 'last') or '')
local newest = #ARGV >= 6 and tonumber(ARGV[#ARGV - 1]) or nil

-- the newest imported period moves the window first (periods arrive oldest first)
local stored, touched = 0, {}
if newest ~= nil and (last == nil or newest > last) then
  if key == minutes then -- the open minute is no longer the newest: into its hour with it
    T.close_open_minute(minutes, hours, open, hours_kept)
    open = nil
  end
  T.expire(key, last, newest, kept)
  call('HSET', key, 'last', format('%d', newest))
  last = newest
end
for i = 5, #ARGV, 2 do
  local period = tonumber(ARGV[i])
  if period > last - kept then
    call('HSET', key, ARGV[i], ARGV[i + 1])
    stored = stored + 1
    if key == minutes then
      touched[math.floor(period / MINUTES_PER_HOUR)] = true
    elseif open ~= nil and period == math.floor(open / MINUTES_PER_HOUR) then
      open = nil -- an imported hour replaces what its open minute held
    end
  end
end

-- every hour touched, from its minutes (but the open one)
local parents = {}
for hour in pairs(touched) do
  parents[#parents + 1] = hour
end
table.sort(parents)
for _, hour in ipairs(parents) do
  local fields = {}
  for k = 0, MINUTES_PER_HOUR - 1 do
    fields[#fields + 1] = format('%d', hour * MINUTES_PER_HOUR + k)
  end
  local folded = nil
  for k, text in ipairs(call('HMGET', minutes, unpack(fields))) do
    local candle = T.parse(text)
    if candle and hour * MINUTES_PER_HOUR + k - 1 ~= open then
      candle.f, candle.t = candle.f + (k - 1) * MINUTE_MS, candle.t + (k - 1) * MINUTE_MS
      folded = T.fold(folded, candle)
    end
  end
  if folded then
    local hour_last = tonumber(call('HGET', hours, 'last') or '')
    if hour_last == nil or hour > hour_last then
      T.expire(hours, hour_last, hour, hours_kept)
      call('HSET', hours, format('%d', hour), T.text(folded), 'last', format('%d', hour))
    elseif hour > hour_last - hours_kept then
      call('HSET', hours, format('%d', hour), T.text(folded))
    end
  end
end
if open == nil and had_open then
  call('HDEL', minutes, 'open')
end

local wrote = 0
if ARGV[3] ~= '' then
  local ok, stamp = pcall(redis.call, 'HGET', feed, 'timestamp') -- not a hash: left alone
  local held = ok and feed_ms(stamp) or nil
  if ok and (held == nil or held < tonumber(ARGV[4])) then
    call('HSET', feed, 'price', ARGV[3], 'timestamp', ARGV[4])
    call('HDEL', feed, 'volume', 'bid', 'ask', 'bids', 'asks')
    call('HSET', minutes, 'seen', ARGV[3] .. '|' .. ARGV[4] .. '|')
    wrote = 1
  end
end
return {stored, wrote}
