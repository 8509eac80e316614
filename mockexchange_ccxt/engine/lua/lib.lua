-- lib.lua: helpers shared by every script; engine/store.py prepends this file to each script it loads.
--
-- Balances live in one hash as integer strings of units (1e-8): fields free:<ASSET>, used:<ASSET>,
-- held:<ASSET> (the part of used that open orders reserve) and pend:<ASSET> (what open orders' fills will
-- bring in). Lua numbers are doubles, exact only below 2^53, so amounts are compared as strings, summed in
-- two exact halves, and changed only with HINCRBY, which is exact int64 arithmetic.
--
-- A "moves" list is flat: op, field, units, op, field, units, ... planned by engine/moves.py, one move per
-- field:
--   'D' debit: the field must hold at least units;   'C' credit: the field plus units must fit in int64;
--   'Q' require: the field must hold at least units, nothing is written;
--   'G' growth check: the fields named (space-separated) plus units must fit in int64, nothing is written.
-- Every script checks all the moves of an operation before it writes anything for it.

-- a >= b for non-negative integers written in decimal without leading zeros
local function units_ge(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a >= b
end

local function is_units(text)
  return type(text) == 'string' and #text <= 19 and string.match(text, '^%d+$') ~= nil
end

-- Whether the sum of non-negative unit strings stays within int64 (2^63 - 1 = 9223372036|854775807).
local function sum_fits(values)
  local high, low = 0, 0
  for _, text in ipairs(values) do
    local n = #text
    if n > 9 then
      high = high + tonumber(string.sub(text, 1, n - 9))
      low = low + tonumber(string.sub(text, n - 8))
    else
      low = low + tonumber(text)
    end
  end
  high = high + math.floor(low / 1000000000)
  low = low % 1000000000
  return high < 9223372036 or (high == 9223372036 and low <= 854775807)
end

-- Check moves against the balances hash. Returns nil when all hold, else the kind of failure and its detail:
-- 'INSUFFICIENT_FUNDS', '<field> <needed> <available>'  or  'OVERFLOW', '<fields> <units>'.
local function check_moves(balances, moves)
  if #moves == 0 then
    return nil
  end
  local fields = {}
  for i = 1, #moves, 3 do
    if moves[i] == 'G' then
      for name in string.gmatch(moves[i + 1], '%S+') do
        fields[#fields + 1] = name
      end
    else
      fields[#fields + 1] = moves[i + 1]
    end
  end
  local values = redis.call('HMGET', balances, unpack(fields))
  local have = {}
  for i, name in ipairs(fields) do
    have[name] = values[i] or '0'
  end
  for i = 1, #moves, 3 do
    local op, field, units = moves[i], moves[i + 1], moves[i + 2]
    if op == 'D' or op == 'Q' then
      if not (is_units(have[field]) and units_ge(have[field], units)) then
        return 'INSUFFICIENT_FUNDS', field .. ' ' .. units .. ' ' .. tostring(have[field])
      end
    elseif op == 'C' then
      if not (is_units(have[field]) and sum_fits({have[field], units})) then
        return 'OVERFLOW', field .. ' ' .. units
      end
    elseif op == 'G' then
      local terms = {units}
      for name in string.gmatch(field, '%S+') do
        if not is_units(have[name]) then
          return 'OVERFLOW', field .. ' ' .. units
        end
        terms[#terms + 1] = have[name]
      end
      if not sum_fits(terms) then
        return 'OVERFLOW', field .. ' ' .. units
      end
    end
  end
  return nil
end

-- Apply moves that check_moves accepted ('Q' and 'G' write nothing).
local function apply_moves(balances, moves)
  for i = 1, #moves, 3 do
    local op = moves[i]
    if op == 'C' then
      redis.call('HINCRBY', balances, moves[i + 1], moves[i + 2])
    elseif op == 'D' then
      redis.call('HINCRBY', balances, moves[i + 1], '-' .. moves[i + 2])
    end
  end
end

-- The failure of check_moves as an error reply: INSUFFICIENT_FUNDS as it is, an overflow as INVALID_ORDER
-- (or the code given); engine/balances.py turns both into sentences.
local function refuse(kind, detail, overflow_code)
  if kind == 'OVERFLOW' then
    return redis.error_reply((overflow_code or 'INVALID_ORDER') .. ' OVERFLOW ' .. detail)
  end
  return redis.error_reply(kind .. ' ' .. detail)
end

-- Drop the symbol from the set of symbols with open orders once all of its sets are empty.
local function forget_if_idle(active, sets, symbol)
  for _, key in ipairs(sets) do
    if redis.call('ZCARD', key) > 0 then
      return
    end
  end
  redis.call('SREM', active, symbol)
end

-- Record a trade in the account's fill indexes (scored by its time).
local function index_fill(fills, symbol_fills, ts, trade_id)
  redis.call('ZADD', fills, ts, trade_id)
  redis.call('ZADD', symbol_fills, ts, trade_id)
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
