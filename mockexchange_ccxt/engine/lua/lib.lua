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
-- never an exponent), and are compared and summed here exactly, as text: no double ever holds them.

-- Integer and fraction digits of a plain decimal.
local function dec_split(a)
  local int, frac = a:match('^(%d*)%.?(%d*)$')
  return int, frac
end

-- -1, 0 or 1 as a < b, a == b, a > b (no leading zeros in the integer part, as Python's fmt() writes them).
local function dec_cmp(a, b)
  local ai, af = dec_split(a)
  local bi, bf = dec_split(b)
  if #ai ~= #bi then
    return #ai < #bi and -1 or 1
  end
  if ai ~= bi then
    return ai < bi and -1 or 1
  end
  local width = math.max(#af, #bf)
  af = af .. string.rep('0', width - #af)
  bf = bf .. string.rep('0', width - #bf)
  if af == bf then
    return 0
  end
  return af < bf and -1 or 1
end

-- a + b, exactly: digit strings added in chunks of 15 digits (each chunk sum stays far below 2^53).
local function dec_add(a, b)
  if b == '0' then
    return a
  end
  if a == '0' then
    return b
  end
  local ai, af = dec_split(a)
  local bi, bf = dec_split(b)
  local fw, iw = math.max(#af, #bf), math.max(#ai, #bi)
  local x = string.rep('0', iw - #ai) .. ai .. af .. string.rep('0', fw - #af)
  local y = string.rep('0', iw - #bi) .. bi .. bf .. string.rep('0', fw - #bf)
  local parts, carry, i = {}, 0, #x
  while i >= 1 do
    local j = math.max(1, i - 14)
    local width = i - j + 1
    local sum = tonumber(x:sub(j, i)) + tonumber(y:sub(j, i)) + carry
    local limit = 10 ^ width
    carry = 0
    if sum >= limit then
      sum, carry = sum - limit, 1
    end
    table.insert(parts, 1, string.format('%0' .. width .. '.0f', sum))
    i = j - 1
  end
  if carry == 1 then
    table.insert(parts, 1, '1')
  end
  local digits = table.concat(parts)
  local int = digits:sub(1, #digits - fw):gsub('^0+', '')
  local frac = digits:sub(#digits - fw + 1):gsub('0+$', '')
  if int == '' then
    int = '0'
  end
  return frac == '' and int or int .. '.' .. frac
end

-- A candle record: 'open,high,low,close,volume,quoteVolume,openAt,closeAt,span' where openAt/closeAt are the
-- milliseconds from the period's start of the ticks that set the open and the close, and span the candle's
-- length in minutes (a level's own, or an imported coarser candle's). nil when absent or unreadable.
local function candle_parse(text)
  if not text then
    return nil
  end
  local o, h, l, c, v, q, f, t, s = text:match('^([%d.]+),([%d.]+),([%d.]+),([%d.]+),([%d.]+),([%d.]+),(%d+),(%d+),(%d+)$')
  if not o then
    return nil
  end
  return {o = o, h = h, l = l, c = c, v = v, q = q, f = tonumber(f), t = tonumber(t), s = s}
end

local function candle_text(k)
  return table.concat({k.o, k.h, k.l, k.c, k.v, k.q, string.format('%d', k.f), string.format('%d', k.t), k.s}, ',')
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
  if dec_cmp(b.h, a.h) > 0 then
    a.h = b.h
  end
  if dec_cmp(b.l, a.l) < 0 then
    a.l = b.l
  end
  a.v, a.q = dec_add(a.v, b.v), dec_add(a.q, b.q)
  return a
end

-- The stored levels: candle hash KEYS position, name, period length (ms), periods per day, span (minutes).
local CANDLE_LEVELS = {
  {name = '1m', ms = 60000, per_day = 1440, span = '1'},
  {name = '1h', ms = 3600000, per_day = 24, span = '60'},
  {name = '1d', ms = 86400000, per_day = 1, span = '1440'},
}

-- Make room for period p of a level whose newest period is meta[name]: a newer p becomes the newest and the
-- periods that fall out of the retention window are deleted. False when p is already outside the window.
local function candle_admit(key, meta, name, p, retention)
  local last = tonumber(redis.call('HGET', meta, name) or '')
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

-- The feed hash's newest timestamp in ms (the feed may write seconds), or nil when it has none or garbage.
local function feed_time(feed)
  if redis.call('TYPE', feed)['ok'] ~= 'hash' then
    return nil
  end
  local stamp = tonumber(redis.call('HGET', feed, 'timestamp') or '')
  if stamp ~= nil and stamp < 100000000000 then
    stamp = stamp * 1000
  end
  return stamp
end

-- The feed hash's identity for recording: its raw price, timestamp and volume.
local function feed_fingerprint(feed)
  local raw = redis.call('HMGET', feed, 'price', 'timestamp', 'volume')
  return (raw[1] or '') .. '|' .. (raw[2] or '') .. '|' .. (raw[3] or '')
end
