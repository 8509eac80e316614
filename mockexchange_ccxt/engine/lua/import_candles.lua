-- import_candles.lua: store whole candles (an import or a backfill), replacing those of the same periods, and
-- rebuild the coarser levels' candles of every period they touch from the level below.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2..4] candles 1m, 1h, 1d  KEYS[5] history bookkeeping
-- ARGV[1] level the candles are stored at ('1m', '1h' or '1d')  ARGV[2] days kept
-- ARGV[3] price for the feed ('' for none)  ARGV[4] its timestamp (ms): written only when the feed has no price
-- or an older one, so an imported symbol is a market, and a re-import or an older file changes no price
-- ARGV[5..] pairs: period number, candle record (see lib.lua)
-- reply: {candles stored (those inside the retention window), 1 if the feed price was written else 0}
local feed, meta = KEYS[1], KEYS[5]
local days = tonumber(ARGV[2])
local start = ({['1m'] = 1, ['1h'] = 2, ['1d'] = 3})[ARGV[1]]
local stored, touched = 0, {{}, {}, {}}

local function touch(index, period)
  if index <= 3 then
    local parent = math.floor(period * CANDLE_LEVELS[index - 1].ms / CANDLE_LEVELS[index].ms)
    touched[index][parent] = true
  end
end

local level = CANDLE_LEVELS[start]
for i = 5, #ARGV, 2 do
  local period = tonumber(ARGV[i])
  if candle_admit(KEYS[start + 1], meta, level.name, period, days * level.per_day) then
    redis.call('HSET', KEYS[start + 1], ARGV[i], ARGV[i + 1])
    stored = stored + 1
    touch(start + 1, period)
  end
end

for index = start + 1, 3 do
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
    if folded and candle_admit(KEYS[index + 1], meta, up.name, parent, days * up.per_day) then
      folded.s = up.span
      redis.call('HSET', KEYS[index + 1], string.format('%d', parent), candle_text(folded))
      touch(index + 1, parent)
    end
  end
end

local wrote = 0
if ARGV[3] ~= '' then
  local kind = redis.call('TYPE', feed)['ok']
  local newest = feed_time(feed)
  if kind == 'none' or (kind == 'hash' and (newest == nil or newest < tonumber(ARGV[4]))) then
    redis.call('HSET', feed, 'price', ARGV[3], 'timestamp', ARGV[4])
    redis.call('HDEL', feed, 'volume', 'bid', 'ask', 'bids', 'asks')
    redis.call('HSET', meta, 'seen', feed_fingerprint(feed))
    wrote = 1
  end
end
return {stored, wrote}
