-- lib.lua: helpers shared by the scripts; engine/store.py prepends this file to each script it loads (one whose
-- first line is '-- uses <name>' gets <name>.lua instead).
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

