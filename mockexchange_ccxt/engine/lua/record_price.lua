-- record_price.lua: fold one price into the symbol's candles (1m, 1h), and in 'publish' mode also write it into
-- the feed hash (set_price), so that the price and its history are written in one step.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h  KEYS[4] history bookkeeping
-- ARGV[1] 'publish' or 'record'  ARGV[2] price  ARGV[3] timestamp (ms)  ARGV[4] volume ('' for none)
-- ARGV[5] quote volume (price * volume, '0' for none)  ARGV[6] days kept
-- publish: ARGV[7] bid, ARGV[8] ask, ARGV[9] bids, ARGV[10] asks ('' drops the field)
-- record (a write made by someone else, noticed later): ARGV[7] the fingerprint the caller parsed
-- reply: 1 when the feed hash holds this price afterwards; 0 when it did not change it: a publish older than
-- the feed's newest price (late data is recorded in its minute, never moves the last price back), or a
-- record whose snapshot was already recorded (by the engine's own publish, or by another process) or has
-- been replaced meanwhile.
local feed, meta = KEYS[1], KEYS[4]
local mode, price, stamp, volume = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ts = tonumber(stamp)
local current = 1

if mode == 'publish' then
  local newest = feed_time(feed)
  if newest == false then -- not a hash: not a price; replaced (the settlement that follows reads it)
    redis.call('DEL', feed)
    newest = nil
  end
  if newest == nil or ts >= newest then
    local set, drop = {'price', price, 'timestamp', stamp}, {}
    for i, name in ipairs({'volume', 'bid', 'ask', 'bids', 'asks'}) do
      local value = i == 1 and volume or ARGV[5 + i]
      if value == '' then
        drop[#drop + 1] = name
      else
        set[#set + 1], set[#set + 2] = name, value
      end
    end
    redis.call('HSET', feed, unpack(set))
    if #drop > 0 then
      redis.call('HDEL', feed, unpack(drop))
    end
    redis.call('HSET', meta, 'seen', price .. '|' .. stamp .. '|' .. volume)
  else
    current = 0
  end
else
  local fingerprint = feed_fingerprint(feed)
  if fingerprint ~= ARGV[7] or redis.call('HGET', meta, 'seen') == fingerprint then
    return 0
  end
  redis.call('HSET', meta, 'seen', fingerprint)
end

local days, lasts = tonumber(ARGV[6]), candle_lasts(meta)
local traded = volume == '' and '0' or volume
for i, level in ipairs(CANDLE_LEVELS) do
  local key = KEYS[i + 1]
  local period = math.floor(ts / level.ms)
  if candle_admit(key, meta, level.name, lasts[i], period, days * level.per_day) then
    local field = string.format('%d', period)
    local offset = ts - period * level.ms
    local tick = {o = price, h = price, l = price, c = price, v = traded, q = ARGV[5], f = offset, t = offset,
                  s = level.span}
    redis.call('HSET', key, field, candle_text(candle_fold(candle_parse(redis.call('HGET', key, field)), tick)))
  end
end
return current
