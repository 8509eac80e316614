-- import_candles.lua: store whole candles (an import or a backfill), replacing those of the same periods, and
-- rebuild the coarser levels' candles of every period they touch from the level below.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h  KEYS[4] history bookkeeping
-- ARGV[1] level the candles are stored at ('1m' or '1h')  ARGV[2] days kept
-- ARGV[3] price for the feed ('' for none)  ARGV[4] its timestamp (ms): written only when the feed has no price
-- or an older one, so an imported symbol is a market, and a re-import or an older file changes no price
-- ARGV[5..] pairs: period number, candle record (see lib.lua)
-- reply: {candles stored (those inside the retention window), 1 if the feed price was written else 0}
local feed, meta = KEYS[1], KEYS[4]
local days = tonumber(ARGV[2])
local start = ({['1m'] = 1, ['1h'] = 2})[ARGV[1]]
local stored, touched = 0, {{}, {}}
local lasts = candle_lasts(meta)

-- candle_admit, keeping ``lasts`` current (one script may admit many periods of a level)
local function admit(index, period)
  local level = CANDLE_LEVELS[index]
  if candle_admit(KEYS[index + 1], meta, level.name, lasts[index], period, days * level.per_day) then
    if lasts[index] == nil or period > lasts[index] then
      lasts[index] = period
    end
    return true
  end
  return false
end

local function touch(index, period)
  if index <= #CANDLE_LEVELS then
    local parent = math.floor(period * CANDLE_LEVELS[index - 1].ms / CANDLE_LEVELS[index].ms)
    touched[index][parent] = true
  end
end

for i = 5, #ARGV, 2 do
  local period = tonumber(ARGV[i])
  if admit(start, period) then
    redis.call('HSET', KEYS[start + 1], ARGV[i], ARGV[i + 1])
    stored = stored + 1
    touch(start + 1, period)
  end
end

for index = start + 1, #CANDLE_LEVELS do
  local up, below = CANDLE_LEVELS[index], CANDLE_LEVELS[index - 1]
  local ratio = up.ms / below.ms
  local parents = {}
  for parent in pairs(touched[index]) do
    parents[#parents + 1] = parent
  end
  table.sort(parents)
  for _, parent in ipairs(parents) do
    local fields = {}
    for k = 0, ratio - 1 do
      fields[#fields + 1] = string.format('%d', parent * ratio + k)
    end
    local folded = nil
    for k, text in ipairs(redis.call('HMGET', KEYS[index], unpack(fields))) do
      local candle = candle_parse(text)
      if candle then
        candle.f, candle.t = candle.f + (k - 1) * below.ms, candle.t + (k - 1) * below.ms
        folded = candle_fold(folded, candle)
      end
    end
    if folded and admit(index, parent) then
      folded.s = up.span
      redis.call('HSET', KEYS[index + 1], string.format('%d', parent), candle_text(folded))
      touch(index + 1, parent)
    end
  end
end

local wrote = 0
if ARGV[3] ~= '' then
  local newest = feed_time(feed) -- false: a key of another type, which is left alone
  if newest == nil or (newest ~= false and newest < tonumber(ARGV[4])) then
    redis.call('HSET', feed, 'price', ARGV[3], 'timestamp', ARGV[4])
    redis.call('HDEL', feed, 'volume', 'bid', 'ask', 'bids', 'asks')
    redis.call('HSET', meta, 'seen', feed_fingerprint(feed))
    wrote = 1
  end
end
return {stored, wrote}
