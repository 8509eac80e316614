-- uses candle_lib
-- record_price.lua: fold one price into its symbol's history (candle_lib.lua), and in 'publish' mode also write it
-- into the feed hash (set_price), so that the price and its history are written in one step.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h
-- ARGV[1] 'publish' or 'record'  ARGV[2] price  ARGV[3] timestamp (ms)  ARGV[4] its minute  ARGV[5] its ms in
-- that minute  ARGV[6] days kept  ARGV[7] base volume  ARGV[8] quote volume: integers of their units, or plain
-- decimals after '=' when finer ('' for none)  ARGV[9] the feed's volume field ('' for none)
-- publish: ARGV[10] bid, ARGV[11] ask, ARGV[12] bids, ARGV[13] asks, when any is given ('' or absent drops the
-- field from the feed hash)
-- record (a write made by someone else, noticed later): ARGV[10] the fingerprint the caller parsed
-- reply: 1 when the feed hash holds this price afterwards; 0 when it did not change it: a publish older than
-- the feed's newest price (late data is recorded in its minute, never moves the last price back), or a
-- record whose snapshot was already recorded (by the engine's own publish, or by another process) or has
-- been replaced meanwhile.
local feed, minutes, hours = KEYS[1], KEYS[2], KEYS[3]
local mode, price, stamp, field, offset = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local volume, quote = ARGV[7], ARGV[8]
local current, seen = 1, nil

if mode == 'publish' then
  local held = redis.pcall('HMGET', feed, 'timestamp', 'volume', 'bid', 'ask', 'bids', 'asks')
  if held.err then -- not a hash: not a price; replaced (the settlement that follows reads it)
    call('DEL', feed)
    held = {}
  end
  local newest = feed_ms(held[1])
  if newest == nil or tonumber(stamp) >= newest then
    local fed = ARGV[9]
    if #ARGV == 9 and not (held[3] or held[4] or held[5] or held[6] or (held[2] and fed == '')) then
      -- the usual write: price, timestamp and maybe volume, nothing to drop
      if fed == '' then
        call('HSET', feed, 'price', price, 'timestamp', stamp)
      else
        call('HSET', feed, 'price', price, 'timestamp', stamp, 'volume', fed)
      end
    else
      local set, drop = {'price', price, 'timestamp', stamp}, {}
      for i, name in ipairs({'volume', 'bid', 'ask', 'bids', 'asks'}) do
        local value = ARGV[8 + i] or ''
        if value ~= '' then
          set[#set + 1], set[#set + 2] = name, value
        elseif held[i + 1] then
          drop[#drop + 1] = name
        end
      end
      call('HSET', feed, unpack(set))
      if #drop > 0 then
        call('HDEL', feed, unpack(drop))
      end
    end
    seen = price .. '|' .. stamp .. '|' .. fed
  else
    current = 0
  end
end

local got
if mode == 'record' then
  got = call('HMGET', minutes, field, 'open', 'seen')
  local raw = redis.pcall('HMGET', feed, 'price', 'timestamp', 'volume')
  seen = not raw.err and (raw[1] or '') .. '|' .. (raw[2] or '') .. '|' .. (raw[3] or '') or nil
  if seen ~= ARGV[10] or got[3] == seen then
    return 0
  end
else
  got = call('HMGET', minutes, field, 'open')
end

local exact = string.byte(volume) == 61 -- '='
if got[1] and got[2] == field and not exact then
  -- the usual case, a price in the open minute: folded in place (the rules of candle_tools().fold)
  local o, h, l, c, v, q, f, t = match(got[1], '^([^,=]+),([^,]+),([^,]+),([^,]+),(%d+),(%d+),(%d+),(%d+)$')
  if o then
    if int_lt(offset, f) then
      o, f = price, offset
    end
    if not int_lt(offset, t) then
      c, t = price, offset
    end
    if price ~= h and dec_cmp(price, h) > 0 then
      h = price
    end
    if price ~= l and dec_cmp(price, l) < 0 then
      l = price
    end
    if volume ~= '' then
      v, q = units_add(v, volume), units_add(q, quote)
    end
    local text = o .. ',' .. h .. ',' .. l .. ',' .. c .. ',' .. v .. ',' .. q .. ',' .. f .. ',' .. t
    if seen then
      call('HSET', minutes, field, text, 'seen', seen)
    else
      call('HSET', minutes, field, text)
    end
    return current
  end
end

local T = candle_tools()
local minute, days = tonumber(field), tonumber(ARGV[6])
local tick = exact and T.tick('=', price, sub(volume, 2), sub(quote, 2), tonumber(offset))
  or T.tick('', price, volume == '' and '0' or volume, quote == '' and '0' or quote, tonumber(offset))
local open, last = tonumber(got[2] or ''), nil
if not got[1] then
  last = tonumber(call('HGET', minutes, 'last') or '')
end
local minutes_kept, hours_kept = days * 1440, days * 24
local write = {}
if got[1] then -- a minute with a record (so inside the window)
  write = {field, T.text(T.fold(T.parse(got[1]), tick))}
  if minute ~= open then -- a closed minute: its hour holds it too
    T.fold_into_hour(hours, tick, minute, hours_kept)
  end
elseif last ~= nil and minute <= last - minutes_kept then -- older than the minutes kept; maybe not the hours
  T.fold_into_hour(hours, tick, minute, hours_kept)
elseif last == nil or minute > last then -- a new newest minute: the open one is closed
  T.close_open_minute(minutes, hours, open, hours_kept)
  T.expire(minutes, last, minute, minutes_kept)
  write = {field, T.text(T.fold(nil, tick)), 'last', field, 'open', field}
else -- a late price in a minute that had none
  write = {field, T.text(T.fold(nil, tick))}
  T.fold_into_hour(hours, tick, minute, hours_kept)
end
if seen then
  write[#write + 1], write[#write + 2] = 'seen', seen
end
if #write > 0 then
  call('HSET', minutes, unpack(write))
end
return current
