-- record_lib.lua: recording one price (and publishing it), after candle_lib.lua, for the scripts that write
-- prices: record_price.lua, publish_settle.lua, price_ticks.lua.

-- An ``extra`` with nothing in it (publish_price and record_price only read theirs), for callers that have none:
-- no table is made per call.
local NO_EXTRA = {}

-- Write a price into the feed hash (set_price's publish; arguments as record_price's) unless the feed holds a
-- newer one: returns 1 and the fingerprint of the snapshot written, or 0 and nil.
local function publish_price(feed, price, stamp, fed, extra)
  local held = redis.pcall('HMGET', feed, 'timestamp', 'volume', 'bid', 'ask', 'bids', 'asks')
  if held.err then -- not a hash: not a price; replaced (the settlement that follows reads it)
    call('DEL', feed)
    held = {}
  end
  local newest = held[1]
  if newest and #newest == #stamp and #stamp > 11 and find(newest, '^[1-9]%d*$') then
    -- ms as set_price writes them, both of one length and at least 10^11 (so ms to feed_ms too): the texts
    -- compare as the numbers do, without reading them
    newest = stamp >= newest
  else
    newest = feed_ms(newest)
    newest = newest == nil or tonumber(stamp) >= newest
  end
  if newest then
    if #extra == 0 and not (held[3] or held[4] or held[5] or held[6] or (held[2] and fed == '')) then
      -- the usual write: price, timestamp and maybe volume, nothing to drop
      if fed == '' then
        call('HSET', feed, 'price', price, 'timestamp', stamp)
      else
        call('HSET', feed, 'price', price, 'timestamp', stamp, 'volume', fed)
      end
    else
      local set, drop = {'price', price, 'timestamp', stamp}, {}
      for i, name in ipairs({'volume', 'bid', 'ask', 'bids', 'asks'}) do
        local value = (i == 1 and fed or extra[i - 1]) or ''
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
    return 1, price .. '|' .. stamp .. '|' .. fed
  end
  return 0, nil
end

-- The open minute's record in the integer form: its eight fields.
local OPEN_RECORD = '^([^,=]+),([^,]+),([^,]+),([^,]+),(%d+),(%d+),(%d+),(%d+)$'

-- The open minute's record as a list of its eight fields (the two offsets as numbers), when it is in the integer
-- form; else nil. Its text is table.concat(k, ','): offsets below 60000 print as integers.
local function open_record(text)
  local o, h, l, c, v, q, f, t = match(text, OPEN_RECORD)
  return o and {o, h, l, c, v, q, tonumber(f), tonumber(t)}
end

-- Fold a price at ``at`` ms into its minute (its volumes in the integer form, '' for none) into such a list, in
-- place: the rules of candle_tools().fold, for the usual case of a price in the open minute. ``offset`` is what
-- the list keeps for ``at``: the number itself, or its text when the list holds the offsets as texts (compared
-- as numbers: ``+ 0``), as record_price's does.
local function fold_open(k, price, offset, at, volume, quote)
  if at < k[7] + 0 then
    k[1], k[7] = price, offset
  end
  if at >= k[8] + 0 then
    k[4], k[8] = price, offset
  end
  if price ~= k[2] and dec_cmp(price, k[2]) > 0 then
    k[2] = price
  end
  if price ~= k[3] and dec_cmp(price, k[3]) < 0 then
    k[3] = price
  end
  if volume ~= '' then
    k[5], k[6] = units_add(k[5], volume), units_add(k[6], quote)
  end
end

-- record_price's list for the open minute: one table for every call (nearly every price folds into it, and builds
-- none), with the offsets as texts (none is printed back from a number).
local OPEN = {}

-- Fold one price into its symbol's history (record_price.lua says what each argument is) and, in 'publish'
-- mode, write it into the feed hash first; ``extra`` holds what follows the feed's volume field (publish: bid,
-- ask, bids, asks, when any is given; record: the fingerprint). Returns 1 when the feed holds this price
-- afterwards, else 0. A function, so that a script recording many prices (price_ticks.lua) folds each the same
-- way.
local function record_price(feed, minutes, hours, mode, price, stamp, field, offset, days, volume, quote, fed, extra)
  local current, seen = 1, nil

  if mode == 'publish' then
    current, seen = publish_price(feed, price, stamp, fed, extra)
  end

  local got
  if mode == 'record' then
    got = call('HMGET', minutes, field, 'open', 'seen')
    local raw = redis.pcall('HMGET', feed, 'price', 'timestamp', 'volume')
    seen = not raw.err and (raw[1] or '') .. '|' .. (raw[2] or '') .. '|' .. (raw[3] or '') or nil
    if seen ~= extra[1] or got[3] == seen then
      return 0
    end
  else
    got = call('HMGET', minutes, field, 'open')
  end

  local exact = string.byte(volume) == 61 -- '='
  if got[1] and got[2] == field and not exact then
    -- the usual case, a price in the open minute: folded in place (the rules of candle_tools().fold)
    local k = OPEN
    k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8] = match(got[1], OPEN_RECORD)
    if k[1] then
      fold_open(k, price, offset, tonumber(offset), volume, quote)
      local text = concat(k, ',')
      if seen then
        call('HSET', minutes, field, text, 'seen', seen)
      else
        call('HSET', minutes, field, text)
      end
      return current
    end
  end

  local T = candle_tools()
  local minute = tonumber(field)
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
end
