-- lib.lua: helpers shared by every script; engine/store.py prepends this file to each script it loads.
--
-- Balances live in one hash as integer strings of units (1e-8): fields free:<ASSET>, used:<ASSET> and
-- held:<ASSET> (the part of used that open orders reserve). Lua numbers are doubles, exact only below 2^53,
-- so amounts are compared as strings and changed only with HINCRBY, which is exact int64 arithmetic.
--
-- A "moves" list is flat: op, field, units, op, field, units, ... where op 'D' debits (the field must hold
-- at least units) and 'C' credits. Every script checks all debits before it writes anything.

-- a >= b for non-negative integers written in decimal without leading zeros
local function units_ge(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a >= b
end

-- The first debit the balances cannot cover, as field, needed, available; nil when all are covered.
local function uncovered_debit(balances, moves)
  for i = 1, #moves, 3 do
    if moves[i] == 'D' then
      local have = redis.call('HGET', balances, moves[i + 1]) or '0'
      if not units_ge(have, moves[i + 2]) then
        return moves[i + 1], moves[i + 2], have
      end
    end
  end
  return nil
end

-- Apply checked moves. Credits go first: only a credit can overflow int64, and the engine lists the one
-- credit that can (new money for the account) before any other, so an overflow error writes nothing.
local function apply_moves(balances, moves)
  for i = 1, #moves, 3 do
    if moves[i] == 'C' and moves[i + 2] ~= '0' then
      redis.call('HINCRBY', balances, moves[i + 1], moves[i + 2])
    end
  end
  for i = 1, #moves, 3 do
    if moves[i] == 'D' and moves[i + 2] ~= '0' then
      redis.call('HINCRBY', balances, moves[i + 1], '-' .. moves[i + 2])
    end
  end
end

local function insufficient(field, need, have)
  return redis.error_reply('INSUFFICIENT_FUNDS ' .. field .. ' ' .. need .. ' ' .. have)
end

-- Drop the symbol from the set of symbols with open orders once both of its books are empty.
local function forget_if_idle(active, book_buy, book_sell, symbol)
  if redis.call('ZCARD', book_buy) == 0 and redis.call('ZCARD', book_sell) == 0 then
    redis.call('SREM', active, symbol)
  end
end


-- Candles (engine/candles.py). Prices and volumes arrive as plain non-negative decimal text ('50000.5', '0',
-- never an exponent), and are compared and summed here exactly, as text: no double ever holds them. These run
-- on every price write, so the common cases take short paths.

-- Integer and fraction digits of a plain decimal (the point, when there is one, is dropped).
local function dec_split(a)
  local dot = string.find(a, '.', 1, true)
  if not dot then
    return a, ''
  end
  return string.sub(a, 1, dot - 1), string.sub(a, dot + 1)
end

-- Pad a plain decimal whose point is at ``dot`` (#a + 1 when it has none) with zeros to ``width`` characters.
local function dec_pad(a, dot, width)
  if width <= #a then
    return a
  end
  if dot > #a then
    return a .. '.' .. string.rep('0', width - #a - 1)
  end
  return a .. string.rep('0', width - #a)
end

-- -1, 0 or 1 as a < b, a == b, a > b (no leading zeros in the integer part, as Python's fmt() writes them):
-- a longer integer part is larger; with the points aligned, padded text compares like the numbers.
local function dec_cmp(a, b)
  if a == b then
    return 0
  end
  local da = string.find(a, '.', 1, true) or #a + 1
  local db = string.find(b, '.', 1, true) or #b + 1
  if da ~= db then
    return da < db and -1 or 1
  end
  local width = math.max(#a, #b)
  a, b = dec_pad(a, da, width), dec_pad(b, db, width)
  if a == b then
    return 0
  end
  return a < b and -1 or 1
end

-- a + b, exactly: the digits (fractions aligned) added in chunks of 15 (each chunk sum stays below 2^53).
local function dec_add(a, b)
  if b == '0' then
    return a
  end
  if a == '0' then
    return b
  end
  local ai, af = dec_split(a)
  local bi, bf = dec_split(b)
  local fw = math.max(#af, #bf)
  local x = ai .. af .. string.rep('0', fw - #af)
  local y = bi .. bf .. string.rep('0', fw - #bf)
  local digits
  if #x <= 15 and #y <= 15 then -- the usual case: one exact double addition
    digits = string.format('%.0f', tonumber(x) + tonumber(y))
  else
    local width = math.max(#x, #y)
    x, y = string.rep('0', width - #x) .. x, string.rep('0', width - #y) .. y
    local parts, carry, i = {}, 0, width
    while i >= 1 do
      local j = math.max(1, i - 14)
      local sum = tonumber(string.sub(x, j, i)) + tonumber(string.sub(y, j, i)) + carry
      local limit = 10 ^ (i - j + 1)
      carry = 0
      if sum >= limit then
        sum, carry = sum - limit, 1
      end
      parts[#parts + 1] = string.format('%0' .. (i - j + 1) .. '.0f', sum)
      i = j - 1
    end
    if carry == 1 then
      parts[#parts + 1] = '1'
    end
    local ordered = {}
    for k = #parts, 1, -1 do
      ordered[#ordered + 1] = parts[k]
    end
    digits = string.gsub(table.concat(ordered), '^0+', '')
  end
  if fw == 0 then
    return digits ~= '' and digits or '0'
  end
  if #digits <= fw then
    digits = string.rep('0', fw - #digits + 1) .. digits
  end
  local int, frac = string.sub(digits, 1, #digits - fw), string.gsub(string.sub(digits, #digits - fw + 1), '0+$', '')
  return frac == '' and int or int .. '.' .. frac
end

-- A candle record: 'open,high,low,close,volume,quoteVolume,openAt,closeAt,span' where openAt/closeAt are the
-- milliseconds from the period's start of the prices that set the open and the close, and span the candle's
-- length in minutes (a level's own, or an imported coarser candle's). nil when absent or unreadable.
local function candle_parse(text)
  if not text then
    return nil
  end
  local o, h, l, c, v, q, f, t, s = string.match(text, '^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$')
  f, t = tonumber(f), tonumber(t)
  if not (f and t) then
    return nil
  end
  return {o = o, h = h, l = l, c = c, v = v, q = q, f = f, t = t, s = s}
end

local function candle_text(k)
  return k.o .. ',' .. k.h .. ',' .. k.l .. ',' .. k.c .. ',' .. k.v .. ',' .. k.q .. ','
    .. string.format('%d,%d,', k.f, k.t) .. k.s
end

-- Fold candle b into candle a (offsets of both already from a's period start): the earlier open, the later
-- close (on a tie the one folded in last), the higher high, the lower low, volumes summed.
local function candle_fold(a, b)
  if a == nil then
    return b
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
  a.v, a.q = dec_add(a.v, b.v), dec_add(a.q, b.q)
  return a
end

-- The stored levels, in the order of their keys: name, period length (ms), periods per day, span (minutes).
local CANDLE_LEVELS = {
  {name = '1m', ms = 60000, per_day = 1440, span = '1'},
  {name = '1h', ms = 3600000, per_day = 24, span = '60'},
}

-- Make room for period p of a level whose newest period is ``last`` (nil: none yet): a newer p becomes the
-- newest (written to the bookkeeping hash) and the periods that leave the retention window are deleted.
-- False when p is already outside the window.
local function candle_admit(key, meta, name, last, p, retention)
  if last ~= nil and p <= last - retention then
    return false
  end
  if last == nil or p > last then
    if last ~= nil then
      local first, upto = last - retention + 1, p - retention -- periods that leave the window
      if upto - first + 1 >= retention then
        redis.call('DEL', key)
      elseif upto >= first then
        local fields = {}
        for period = first, upto do
          fields[#fields + 1] = string.format('%d', period)
          if #fields == 1000 then
            redis.call('HDEL', key, unpack(fields))
            fields = {}
          end
        end
        if #fields > 0 then
          redis.call('HDEL', key, unpack(fields))
        end
      end
    end
    redis.call('HSET', meta, name, string.format('%d', p))
  end
  return true
end

-- The newest period of each level, from the bookkeeping hash (nil where none).
local function candle_lasts(meta)
  local raw = redis.call('HMGET', meta, '1m', '1h')
  return {tonumber(raw[1] or ''), tonumber(raw[2] or '')}
end

-- The feed hash's newest timestamp in ms (the feed may write seconds); nil when it has none or garbage, and
-- false when the key is not a hash.
local function feed_time(feed)
  local ok, stamp = pcall(redis.call, 'HGET', feed, 'timestamp')
  if not ok then
    return false
  end
  stamp = tonumber(stamp or '')
  if stamp ~= nil and stamp < 100000000000 then
    stamp = stamp * 1000
  end
  return stamp
end

-- The feed hash's identity for recording: its raw price, timestamp and volume (nil if it is not a hash).
local function feed_fingerprint(feed)
  local ok, raw = pcall(redis.call, 'HMGET', feed, 'price', 'timestamp', 'volume')
  if not ok then
    return nil
  end
  return (raw[1] or '') .. '|' .. (raw[2] or '') .. '|' .. (raw[3] or '')
end
