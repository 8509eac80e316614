-- candle_lib.lua: helpers of the scripts that record and read price history (engine/history.py), after lib.lua
-- (units_add, dec_add and the short names of string functions).
--
-- Each stored level is a hash: field <period number> -> record (engine/candles.py), and bookkeeping fields:
--   candles 1m: 'last' the newest minute, 'open' the minute not yet folded into its hour (the newest, while
--               prices arrive in it), 'seen' the fingerprint of the last feed snapshot recorded
--   candles 1h: 'last' the newest hour
-- An hour record holds its minutes except the open one, so that a price in the open minute (nearly every
-- price) writes one record; the open minute is folded into its hour when a newer minute opens, and readers
-- of hours fold it in themselves.
--
-- A record is 'o,h,l,c,v,q,f,t' or 'o,h,l,c,v,q,f,t,s': prices as plain decimal text (any precision), v the
-- base volume in units of 1e-8 and q the quote volume in units of 1e-16 as integers (exact: added in doubles
-- below 10^15, in two exact halves below 10^30), f and t the ms from the period's start of the prices that set
-- the open and the close, s the span in minutes when it is not the level's own (an imported 5m candle kept
-- at the 1m level). A volume finer than those units makes the record '=o,h,l,c,v,q,f,t[,s]' with v and q as
-- plain decimal text, added exactly as text; a record that met one stays in that form.
-- Every decimal here is normalized (no exponent, no leading or trailing zeros: engine/money.fmt), so two
-- decimals whose integer parts have the same length compare like their text.
--
-- What a price in the open minute needs is defined here; the rarer paths (a new minute, a late price, an import,
-- a read) use the table of candle_tools(), made on its first use.

local MINUTE_MS, MINUTES_PER_HOUR = 60000, 60

-- -1, 0 or 1 as a < b, a == b, a > b (normalized plain decimals)
local function dec_cmp(a, b)
  if a == b then
    return 0
  end
  local da = find(a, '.', 1, true) or #a + 1
  local db = find(b, '.', 1, true) or #b + 1
  if da ~= db then
    return da < db and -1 or 1
  end
  return a < b and -1 or 1
end

local candle_tools

-- A feed timestamp (seconds or ms) in ms; nil when it is absent or not a finite number.
local function feed_ms(stamp)
  stamp = tonumber(stamp or '')
  if stamp == nil or stamp ~= stamp or stamp == math.huge or stamp == -math.huge then
    return nil
  end
  if stamp < 100000000000 then
    stamp = stamp * 1000
  end
  return stamp
end

local tools
candle_tools = function()
  if tools then
    return tools
  end
  local T = {}

  -- Integer units of 10^-scale as a plain decimal.
  function T.units_text(units, scale)
    if #units <= scale then
      units = string.rep('0', scale - #units + 1) .. units
    end
    local frac = string.gsub(sub(units, -scale), '0+$', '')
    local int = sub(units, 1, #units - scale)
    return frac == '' and int or int .. '.' .. frac
  end

  -- A record as a table (nil when absent or unreadable); ``x`` is '' or '=' (the form).
  function T.parse(text)
    if not text then
      return nil
    end
    local x, o, h, l, c, v, q, f, t, s =
      match(text, '^(=?)([^,]+),([^,]+),([^,]+),([^,]+),([^,]+),([^,]+),(%d+),(%d+),?(%d*)$')
    if not o then
      return nil
    end
    return {x = x, o = o, h = h, l = l, c = c, v = v, q = q, f = tonumber(f), t = tonumber(t), s = s}
  end

  function T.text(k)
    local text = k.x .. k.o .. ',' .. k.h .. ',' .. k.l .. ',' .. k.c .. ',' .. k.v .. ',' .. k.q .. ','
      .. format('%d,%d', k.f, k.t)
    return k.s == '' and text or text .. ',' .. k.s
  end

  -- The candle of one price: form '' or '=', volume and quote volume in that form, offset in its period.
  function T.tick(form, price, volume, quote, offset)
    return {x = form, o = price, h = price, l = price, c = price, v = volume, q = quote, f = offset, t = offset, s = ''}
  end

  function T.exact(k)
    if k.x == '' then
      k.x, k.v, k.q = '=', T.units_text(k.v, 8), T.units_text(k.q, 16)
    end
  end

  -- Fold candle b into candle a (nil: none yet; offsets of both from a's period start): the earlier open, the
  -- later close (on a tie the one folded in last), the higher high, the lower low, volumes summed. A new
  -- record takes its level's own span.
  function T.fold(a, b)
    if a == nil then
      b.s = ''
      return b
    end
    if a.x ~= b.x then
      T.exact(a)
      T.exact(b)
    end
    if b.f < a.f then
      a.o, a.f = b.o, b.f
    end
    if b.t >= a.t then
      a.c, a.t = b.c, b.t
    end
    if b.h ~= a.h and dec_cmp(b.h, a.h) > 0 then
      a.h = b.h
    end
    if b.l ~= a.l and dec_cmp(b.l, a.l) < 0 then
      a.l = b.l
    end
    if a.x == '' then
      a.v, a.q = units_add(a.v, b.v), units_add(a.q, b.q)
    else
      a.v, a.q = dec_add(a.v, b.v), dec_add(a.q, b.q)
    end
    return a
  end

  -- Delete the periods of a level that leave its retention window when ``p`` becomes the newest (``last`` the
  -- newest before, nil for none). A jump past the whole window empties the hash but for 'seen' (the callers
  -- set 'last' and 'open' again).
  function T.expire(key, last, p, retention)
    if last == nil or p <= last then
      return
    end
    local first, upto = last - retention + 1, p - retention -- the periods that leave the window
    if upto - first + 1 >= retention then
      local seen = call('HGET', key, 'seen')
      call('DEL', key)
      if seen then
        call('HSET', key, 'seen', seen)
      end
    elseif upto >= first then
      local fields = {}
      for period = first, upto do
        fields[#fields + 1] = format('%d', period)
        if #fields == 1000 then
          call('HDEL', key, unpack(fields))
          fields = {}
        end
      end
      if #fields > 0 then
        call('HDEL', key, unpack(fields))
      end
    end
  end

  -- Fold candle k (offsets from the start of its minute ``minute``) into the hour that holds it, within the
  -- hour level's retention of ``hours_kept``; false when that hour is outside it.
  function T.fold_into_hour(hours, k, minute, hours_kept)
    local hour = math.floor(minute / MINUTES_PER_HOUR)
    local field = format('%d', hour)
    local got = call('HMGET', hours, field, 'last')
    local last = tonumber(got[2] or '')
    local shift = (minute - hour * MINUTES_PER_HOUR) * MINUTE_MS
    k.f, k.t = k.f + shift, k.t + shift
    if got[1] then
      call('HSET', hours, field, T.text(T.fold(T.parse(got[1]), k)))
    elseif last ~= nil and hour <= last - hours_kept then
      return false
    elseif last == nil or hour > last then
      T.expire(hours, last, hour, hours_kept)
      call('HSET', hours, field, T.text(T.fold(nil, k)), 'last', field)
    else
      call('HSET', hours, field, T.text(T.fold(nil, k)))
    end
    return true
  end

  -- Fold the open minute (if any) into its hour: a newer minute opens, or history is rewritten around it.
  function T.close_open_minute(minutes, hours, open, hours_kept)
    if open ~= nil then
      local k = T.parse(call('HGET', minutes, format('%d', open)))
      if k then
        T.fold_into_hour(hours, k, open, hours_kept)
      end
    end
  end

  tools = T
  return T
end
